// What the host offers, reported on pop so donors and operators see which machines serve the queue.
import { cpus, totalmem } from 'node:os';
import type { Hardware } from '@dreamfold/protocol';

export function hostHardware(): Hardware {
  const cpu = cpus()[0]?.model.trim();
  return {
    ...(cpu ? { cpu: `${cpu.slice(0, 180)} ×${cpus().length}` } : {}),
    ramMb: Math.round(totalmem() / 1024 / 1024),
  };
}
