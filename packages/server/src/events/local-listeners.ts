import type { GenerationEvent } from '@dreamfold/protocol';
import type { GenerationNotice, JobsAvailable } from './bus.js';

/** The in-process fan-out shared by both buses: listeners keyed by topic, each returns its unsubscribe. */
export class LocalListeners {
  private readonly jobs = new Set<(n: JobsAvailable) => void>();
  private readonly generations = new Map<string, Set<(e: GenerationEvent) => void>>();

  onJobs(listener: (n: JobsAvailable) => void): () => void {
    this.jobs.add(listener);
    return () => this.jobs.delete(listener);
  }

  onGeneration(generationId: string, listener: (e: GenerationEvent) => void): () => void {
    let set = this.generations.get(generationId);
    if (!set) this.generations.set(generationId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.generations.delete(generationId);
    };
  }

  emitJobs(notice: JobsAvailable): void {
    for (const l of this.jobs) l(notice);
  }

  emitGeneration(notice: GenerationNotice): void {
    const set = this.generations.get(notice.generationId);
    if (set) for (const l of [...set]) l(notice.event);
  }
}
