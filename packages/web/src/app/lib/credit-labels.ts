import type { CreditMovement } from '@dreamfold/protocol';

const KIND: Record<CreditMovement['kind'], string> = {
  reserve: 'Held for a generation',
  settle: 'Spent on an image',
  refund: 'Refunded',
  worker_earning: 'Earned by your worker',
  annotation: 'Earned by rating',
  grant: 'Granted',
};

export function movementLabel(movement: CreditMovement): string {
  return KIND[movement.kind] ?? movement.kind;
}
