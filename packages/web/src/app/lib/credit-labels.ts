import type { CreditMovement } from '@dreamfold/protocol';

// A plain record: kinds the protocol adds later show their code until they get words here.
const KIND: Record<string, string> = {
  reserve: 'Held for a generation',
  settle: 'Spent on an image',
  refund: 'Refunded',
  worker_earning: 'Earned by your worker',
  annotation: 'Earned by rating',
  grant: 'Granted',
  earning_reversal: 'Worker earnings held back',
};

export function movementLabel(movement: CreditMovement): string {
  return KIND[movement.kind] ?? movement.kind;
}
