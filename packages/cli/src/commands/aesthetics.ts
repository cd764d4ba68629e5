// `dreamfold aesthetics train|score|filter|export-onnx`: the LAION-style aesthetic predictor on files.
// Flags are parsed here; the work is @dreamfold/aesthetics. Its errors name the file at fault and
// become one line (exit 1); Ctrl-C stops between chunks, and `filter` resumes where it stopped.
import {
  AestheticsError,
  exportOnnx,
  filterLaionDataset,
  loadModel,
  scoreNpyFile,
  trainModelFile,
} from '@dreamfold/aesthetics';
import { CliError } from '../errors.js';
import { progressBar } from '../progress.js';

export interface TrainCommandOptions {
  embeddings: string;
  ratings: string;
  column?: string;
  dim?: string;
  out: string;
  maxEpochs?: string;
  patience?: string;
  seed?: string;
  validation?: string;
}

export interface ScoreCommandOptions {
  model: string;
  embeddings: string;
  out: string;
}

export interface FilterCommandOptions {
  model: string;
  input: string;
  out: string;
  threshold: string[];
  restart?: boolean;
}

export async function train(o: TrainCommandOptions): Promise<void> {
  const bar = progressBar('training');
  const result = await run(() =>
    trainModelFile({
      embeddings: o.embeddings,
      ratings: o.ratings,
      column: o.column,
      dim: optionalInt(o.dim, '--dim', 1),
      out: o.out,
      maxEpochs: optionalInt(o.maxEpochs, '--max-epochs', 1),
      patience: optionalInt(o.patience, '--patience', 1),
      seed: optionalInt(o.seed, '--seed', 0),
      validationFraction: optionalFraction(o.validation, '--validation'),
      onProgress: (p) => {
        if (p.phase === 'epoch') bar.update(p.epoch, p.maxEpochs);
      },
    }),
  ).finally(() => bar.stop());
  const s = result.stats;
  console.log(
    `Trained on ${s.trainRows} rows (${s.validationRows} held out${
      result.skippedRows ? `, ${result.skippedRows} without a rating skipped` : ''
    }): best epoch ${s.bestEpoch} of ${s.epochs}, validation MSE ${s.validationMse.toFixed(4)}, ` +
      `Spearman ${s.validationSpearman.toFixed(4)}, Pearson ${s.validationPearson.toFixed(4)}. Saved ${o.out}.`,
  );
}

export async function score(o: ScoreCommandOptions): Promise<void> {
  const bar = progressBar('scoring');
  const result = await run(() =>
    scoreNpyFile({
      model: o.model,
      embeddings: o.embeddings,
      out: o.out,
      onProgress: (p) => bar.update(p.rowsDone, p.rowsTotal),
      signal: interruptSignal(),
    }),
  ).finally(() => bar.stop());
  console.log(`Scored ${result.rows} embeddings (mean ${result.mean.toFixed(3)}) into ${o.out}.`);
}

export async function filter(o: FilterCommandOptions): Promise<void> {
  const thresholds = (o.threshold.length > 0 ? o.threshold : ['5', '6', '6.5']).map((t) => {
    const n = Number(t);
    if (!Number.isFinite(n)) throw new CliError(`--threshold must be a number; got "${t}".`);
    return n;
  });
  const bar = progressBar('filtering');
  const result = await run(() =>
    filterLaionDataset({
      input: o.input,
      output: o.out,
      model: o.model,
      thresholds,
      restart: o.restart,
      onProgress: (p) => bar.update(p.rowsDone, p.rowsTotal),
      signal: interruptSignal(),
    }),
  ).finally(() => bar.stop());
  console.log(
    `Scored ${result.rows} rows in ${result.pairs} file pairs` +
      (result.skippedPairs ? ` (${result.skippedPairs} already done, resumed)` : '') +
      '. Subsets: ' +
      result.subsets.map((s) => `${s.name} ${s.rows} rows`).join(', ') +
      '.',
  );
}

export async function exportModel(o: { model: string; out: string }): Promise<void> {
  await run(async () => exportOnnx(await loadModel(o.model), o.out));
  console.log(`Wrote ${o.out} (input: embedding [batch, dim], output: score [batch, 1]).`);
}

/** Library errors that are the user's input become one CLI line; anything else is a bug and propagates. */
async function run<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AestheticsError) {
      throw new CliError(
        err.code === 'aborted' ? 'Interrupted; run the same command again to resume.' : err.message,
        err.code === 'aborted' ? 130 : 1,
      );
    }
    throw err;
  }
}

function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return controller.signal;
}

function optionalInt(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new CliError(`${flag} must be an integer ≥ ${min}; got "${value}".`);
  return n;
}

function optionalFraction(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new CliError(`${flag} must be a fraction between 0 and 1; got "${value}".`);
  return n;
}
