// Donor autopilot, part two: work only while the GPU is otherwise idle. Before asking for a job the
// worker reads the GPU's utilisation with nvidia-smi; while something else keeps it busy (a game, a
// training run) it asks for nothing and looks again a little later.
//
// Limits, stated plainly: it needs nvidia-smi (NVIDIA GPUs; elsewhere the option refuses to start rather
// than pretend); it samples between jobs, so a game started during a job waits for that job to finish
// (seconds to a minute); the figure is the whole GPU's busy share over nvidia-smi's last sample period,
// so a light desktop load under the threshold does not count as busy.
import type { Logger } from 'pino';
import { sleep } from './backoff.js';
import { FatalWorkerError } from './errors.js';
import { readNvidiaSmi, type GpuInfo } from './resources.js';

export interface GpuIdleOptions {
  /** Busy above this utilisation percent. */
  thresholdPercent: number;
  /** How long to wait before looking again while busy. */
  recheckMs: number;
  /** Where the readings come from (nvidia-smi; tests pass a path to a stand-in script). */
  read?: () => Promise<GpuInfo[] | undefined>;
}

export class GpuIdleGate {
  private busy = false;

  private constructor(
    private readonly options: GpuIdleOptions,
    private readonly read: () => Promise<GpuInfo[] | undefined>,
    private readonly log: Logger,
  ) {}

  /** Refuses to start when the GPU's use cannot be read on this machine. */
  static async create(options: GpuIdleOptions, log: Logger): Promise<GpuIdleGate> {
    const read = options.read ?? (() => readNvidiaSmi());
    if (!(await read())) {
      throw new FatalWorkerError(
        'gpu_idle_unavailable',
        '--only-when-gpu-idle needs nvidia-smi to read GPU use, and it is not available here (it works with NVIDIA GPUs only). Run without it, or pause the worker yourself with `dreamfold worker pause`.',
      );
    }
    return new GpuIdleGate(options, read, log);
  }

  /** Resolves once the GPU is idle enough (or the signal aborts). */
  async waitUntilIdle(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const gpus = await this.read();
      // A reading that fails now (driver reset) counts as busy: better to wait than to collide.
      const utilization = gpus ? Math.max(...gpus.map((g) => g.utilization)) : 100;
      if (utilization <= this.options.thresholdPercent) {
        if (this.busy) this.log.info({ utilization }, 'the GPU is idle again: taking jobs');
        this.busy = false;
        return;
      }
      if (!this.busy) {
        this.log.info(
          { utilization, thresholdPercent: this.options.thresholdPercent },
          'the GPU is busy with something else: taking no jobs until it is idle',
        );
      }
      this.busy = true;
      await sleep(this.options.recheckMs, signal);
    }
  }
}
