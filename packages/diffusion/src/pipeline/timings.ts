/**
 * Where a generation's time went, split into ONNX Runtime (session.run wall time, as seen from JavaScript) and
 * our own overhead, so a benchmark can show whether the pipeline code around the graphs matters.
 */
import { performance } from 'node:perf_hooks';

export interface StepTiming {
  /** UNet session.run time of this step (both runs with sequential guidance). */
  onnxMs: number;
  /** Everything else in the step: input scaling, fp16 conversion, feeds, guidance, scheduler, cancellation check. */
  overheadMs: number;
}

export interface GenerateTimings {
  totalMs: number;
  /** From generate() being called to the first UNet session.run starting ("job receipt to first step"). */
  timeToFirstStepMs: number;
  onnx: {
    textEncoderMs: number;
    unetMs: number;
    vaeDecoderMs: number;
    vaeEncoderMs: number;
    totalMs: number;
  };
  overhead: {
    tokenizeMs: number;
    /** Scheduler tables and steps, noise generation. */
    schedulerMs: number;
    /** Tensor copies and dtype conversions, feeds. */
    tensorsMs: number;
    guidanceMs: number;
    /** Init-image decode and PNG encode (sharp) plus the metadata chunk. */
    imageMs: number;
    /** totalMs − onnx.totalMs: all our time, including what is not itemised above. */
    totalMs: number;
  };
  steps: StepTiming[];
}

export type OnnxPart = 'textEncoderMs' | 'unetMs' | 'vaeDecoderMs' | 'vaeEncoderMs';
export type OverheadPart = 'tokenizeMs' | 'schedulerMs' | 'tensorsMs' | 'guidanceMs' | 'imageMs';

export class TimingRecorder {
  private readonly start = performance.now();
  private firstStep: number | undefined;
  readonly onnx = { textEncoderMs: 0, unetMs: 0, vaeDecoderMs: 0, vaeEncoderMs: 0 };
  readonly overhead = { tokenizeMs: 0, schedulerMs: 0, tensorsMs: 0, guidanceMs: 0, imageMs: 0 };
  readonly steps: StepTiming[] = [];

  now(): number {
    return performance.now();
  }

  /** Time a synchronous piece of our own work. */
  measure<T>(part: OverheadPart, work: () => T): T {
    const t0 = performance.now();
    try {
      return work();
    } finally {
      this.overhead[part] += performance.now() - t0;
    }
  }

  async measureAsync<T>(part: OverheadPart, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.overhead[part] += performance.now() - t0;
    }
  }

  /** Time a session.run; returns its duration too, for per-step accounting. */
  async run<T>(part: OnnxPart, work: () => Promise<T>): Promise<{ result: T; ms: number }> {
    const t0 = performance.now();
    if (part === 'unetMs' && this.firstStep === undefined) this.firstStep = t0;
    const result = await work();
    const ms = performance.now() - t0;
    this.onnx[part] += ms;
    return { result, ms };
  }

  finish(): GenerateTimings {
    const totalMs = performance.now() - this.start;
    const onnxTotal =
      this.onnx.textEncoderMs + this.onnx.unetMs + this.onnx.vaeDecoderMs + this.onnx.vaeEncoderMs;
    return {
      totalMs,
      timeToFirstStepMs: (this.firstStep ?? this.start) - this.start,
      onnx: { ...this.onnx, totalMs: onnxTotal },
      overhead: { ...this.overhead, totalMs: totalMs - onnxTotal },
      steps: this.steps,
    };
  }
}
