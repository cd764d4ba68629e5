import type { EventBus, GenerationNotice, JobsAvailable } from './bus.js';
import { LocalListeners } from './local-listeners.js';

/** Single-process bus (the SQLite deployment). Delivery is synchronous and never lost. */
export class MemoryBus implements EventBus {
  private readonly local = new LocalListeners();
  // In one process the waiters' claims queue behind the transaction on the single SQLite connection,
  // so waking them before it commits is safe.
  async publishJobs(notice: JobsAvailable): Promise<void> {
    this.local.emitJobs(notice);
  }
  async publishGeneration(notice: GenerationNotice): Promise<void> {
    this.local.emitGeneration(notice);
  }
  onJobs(listener: (n: JobsAvailable) => void): () => void {
    return this.local.onJobs(listener);
  }
  onGeneration(id: string, listener: Parameters<LocalListeners['onGeneration']>[1]): () => void {
    return this.local.onGeneration(id, listener);
  }
  async close(): Promise<void> {}
}
