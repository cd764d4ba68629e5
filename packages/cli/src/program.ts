// The `dreamfold` command line: one subcommand per file under commands/, each imported only when run, so
// `dreamfold worker` does not load the coordinator (and `up` does not load ONNX Runtime).
import { Command, Option } from 'commander';
import { ROLES } from '@dreamfold/protocol';
import type { WorkerCommandOptions } from './commands/worker.js';
import type { DoctorCommandOptions } from './commands/doctor.js';
import type {
  FilterCommandOptions,
  ScoreCommandOptions,
  TrainCommandOptions,
} from './commands/aesthetics.js';
import type { AdminApiOptions, InstallCommandOptions } from './commands/predictor.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function buildProgram(): Command {
  const program = new Command('dreamfold')
    .description('Dreamfold: open, volunteer-powered text-to-image platform')
    .showHelpAfterError()
    // Options belong to the command they follow (`worker pause --server …` is pause's --server).
    .enablePositionalOptions();

  program
    .command('up')
    .description('Run the coordinator (configured from the environment: PORT, DATA_DIR, DATABASE_URL, …)')
    .action(async () => (await import('./commands/up.js')).up());

  const admin = program.command('admin').description('Operator tasks on the configured database');
  admin
    .command('create-user')
    .description('Create a user and print their API key (once)')
    .requiredOption('--email <email>', 'email address of the new user')
    .addOption(new Option('--role <role>', 'role of the new user').choices(ROLES).default('user'))
    .option('--json', 'print { user, key } as JSON')
    .action(async (opts: { email: string; role: string; json?: boolean }) =>
      (await import('./commands/admin.js')).createUser(opts),
    );

  const workerCommand = program
    .command('worker')
    .description('Donate compute: pop jobs from a coordinator, generate, upload')
    // `worker pause --server …`: options after a subcommand are the subcommand's.
    .enablePositionalOptions()
    .option('--server <url>', 'coordinator URL (or DREAMFOLD_SERVER)')
    .option('--key <key>', 'worker key dfw_… (prefer the DREAMFOLD_WORKER_KEY environment variable)')
    // Checked in the command rather than by commander, which would also demand it of pause/resume.
    .option('--backend <name>', 'generation backend, e.g. onnx (required)')
    .option('--model-dir <dir>', 'a model folder; repeat for several (model id = folder name)', collect, [])
    .option('--provider <name>', 'execution provider: cpu, cuda, coreml, dml, webgpu')
    .option(
      '--guidance <mode>',
      'batched (default) or sequential: two batch-1 UNet runs per step, about half the memory (~5 GB GPUs)',
    )
    .option('--name <name>', 'name shown in this worker’s logs')
    .option('--max-jobs <n>', 'exit 0 after taking this many jobs')
    .option('--until <time>', 'stop taking jobs at an ISO time or after a duration (e.g. 3h55m)')
    .option('--max-pixels <n>', 'largest width×height to accept')
    .option('--log-level <level>', 'pino log level (default info, or LOG_LEVEL)')
    .option(
      '--only-when-gpu-idle [percent]',
      'take jobs only while something else uses at most this share of the GPU (default 10; needs nvidia-smi)',
    )
    .action(async (opts: WorkerCommandOptions) => {
      const { worker } = await import('./commands/worker.js');
      // Exit right away: an idle keep-alive socket must not hold a finished worker for seconds.
      process.exit(await worker(opts));
    });
  workerCommand
    .command('doctor')
    .description(
      'Check what this machine can run: Node, ONNX Runtime, providers, memory, models, coordinator',
    )
    .option('--server <url>', 'also check this coordinator and the worker key (or DREAMFOLD_SERVER)')
    .option('--key <key>', 'worker key dfw_… (prefer the DREAMFOLD_WORKER_KEY environment variable)')
    .option('--model-dir <dir>', 'a model folder to check; repeat for several', collect, [])
    .option('--provider <name>', 'execution provider the worker will use (default cpu)')
    .option('--max-pixels <n>', 'largest width×height the worker will accept')
    .option('--guidance <mode>', 'batched (default) or sequential, as the worker will run')
    .option('--json', 'print one JSON object per check')
    .action(async (opts: DoctorCommandOptions) => {
      process.exit(await (await import('./commands/doctor.js')).doctor(opts));
    });
  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    workerCommand
      .command(name)
      .description(
        paused
          ? 'Stop this worker taking jobs (no penalty; a job in progress finishes), e.g. to play a game'
          : 'Let a paused worker take jobs again',
      )
      .option('--server <url>', 'coordinator URL (or DREAMFOLD_SERVER)')
      .option('--key <key>', 'worker key dfw_… (prefer the DREAMFOLD_WORKER_KEY environment variable)')
      .action(async (opts: { server?: string; key?: string }) =>
        (await import('./commands/worker.js')).setPaused(paused, opts),
      );
  }

  const aesthetics = program
    .command('aesthetics')
    .description(
      'LAION-style aesthetic predictor: train on ratings, score embeddings, filter datasets, install on a coordinator',
    );
  aesthetics
    .command('train')
    .description('Train the MLP on CLIP embeddings (.npy) and mean ratings (Parquet, row-aligned)')
    .requiredOption('--embeddings <file>', '[N, D] .npy of CLIP image embeddings (float16 or float32)')
    .requiredOption('--ratings <file>', 'Parquet file with N rows and a rating column')
    .option('--column <name>', 'rating column name', 'rating')
    .option('--dim <n>', 'embedding dimension (768 for CLIP ViT-L/14)', '768')
    .requiredOption('--out <file>', 'where to save the model (.safetensors)')
    .option('--max-epochs <n>', 'upper bound on epochs (early stopping usually ends sooner)')
    .option('--patience <n>', 'epochs without a better validation MSE before stopping')
    .option('--validation <fraction>', 'share of rows held out for validation (default 0.1)')
    .option('--seed <n>', 'seed for the split, initialisation and shuffling')
    .action(async (opts: TrainCommandOptions) => (await import('./commands/aesthetics.js')).train(opts));
  aesthetics
    .command('score')
    .description('Score every embedding of a .npy file')
    .requiredOption('--model <file>', 'a model saved by `aesthetics train`')
    .requiredOption('--embeddings <file>', '[N, D] .npy of CLIP image embeddings')
    .requiredOption('--out <file>', '.parquet (one aesthetic_score column) or .npy (float32 [N, 1])')
    .action(async (opts: ScoreCommandOptions) => (await import('./commands/aesthetics.js')).score(opts));
  aesthetics
    .command('filter')
    .description('Write LAION-Aesthetics-style subsets of a LAION-format dataset (img_emb/ + metadata/)')
    .requiredOption('--model <file>', 'a model saved by `aesthetics train`')
    .requiredOption('--input <dir>', 'folder with img_emb/img_emb_*.npy and metadata/metadata_*.parquet')
    .requiredOption('--out <dir>', 'folder for one subset per threshold (resumable)')
    .option('--threshold <score>', 'keep rows scoring at least this; repeat (default 5, 6, 6.5)', collect, [])
    .option('--restart', 'ignore the resume state and redo every file pair')
    .action(async (opts: FilterCommandOptions) => (await import('./commands/aesthetics.js')).filter(opts));
  aesthetics
    .command('export-onnx')
    .description('Export a model to ONNX (normalisation included) for other runtimes')
    .requiredOption('--model <file>', 'a model saved by `aesthetics train`')
    .requiredOption('--out <file>', 'the .onnx file to write')
    .action(async (opts: { model: string; out: string }) =>
      (await import('./commands/aesthetics.js')).exportModel(opts),
    );
  aesthetics
    .command('install')
    .description(
      'Install a predictor on a running coordinator: it becomes current and every image is scored again',
    )
    .requiredOption('--model <path>', 'the model file `aesthetics train` wrote, or a folder holding just one')
    .option('--server <url>', 'coordinator URL (or DREAMFOLD_SERVER)')
    .option('--key <key>', "an admin's API key (prefer the DREAMFOLD_API_KEY environment variable)")
    .option('--json', 'print the installed predictor as JSON')
    .action(async (opts: InstallCommandOptions) => (await import('./commands/predictor.js')).install(opts));
  aesthetics
    .command('status')
    .description('The coordinator’s current predictor and how far scoring and re-scoring have come')
    .option('--server <url>', 'coordinator URL (or DREAMFOLD_SERVER)')
    .option('--key <key>', "an admin's API key (prefer the DREAMFOLD_API_KEY environment variable)")
    .option('--json', 'print the status as JSON')
    .action(async (opts: AdminApiOptions) => (await import('./commands/predictor.js')).status(opts));

  const dataset = program.command('dataset').description('Open dataset releases');
  dataset
    .command('release')
    .description(
      'Write a dataset release (Parquet, WebDataset shards, embeddings, card, manifest) from the configured database',
    )
    .option('--out <dir>', 'parent folder; the release goes to <dir>/<name> (default $DATA_DIR/datasets)')
    .option('--previous <dir>', 'the previous release folder (default: the newest recorded release)')
    .option('--name <name>', 'release name (default dreamfold-YYYY-MM-DD)')
    .action(async (opts: { out?: string; previous?: string; name?: string }) =>
      (await import('./commands/dataset.js')).release(opts),
    );

  return program;
}
