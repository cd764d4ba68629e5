// The `dreamfold` command line: one subcommand per file under commands/, each imported only when run, so
// `dreamfold worker` does not load the coordinator (and `up` does not load ONNX Runtime).
import { Command, Option } from 'commander';
import { ROLES } from '@dreamfold/protocol';
import type { WorkerCommandOptions } from './commands/worker.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function buildProgram(): Command {
  const program = new Command('dreamfold')
    .description('Dreamfold: open, volunteer-powered text-to-image platform')
    .showHelpAfterError();

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

  program
    .command('worker')
    .description('Donate compute: pop jobs from a coordinator, generate, upload')
    .option('--server <url>', 'coordinator URL (or DREAMFOLD_SERVER)')
    .option('--key <key>', 'worker key dfw_… (prefer the DREAMFOLD_WORKER_KEY environment variable)')
    .requiredOption('--backend <name>', 'generation backend, e.g. onnx')
    .option('--model-dir <dir>', 'a model folder; repeat for several (model id = folder name)', collect, [])
    .option('--provider <name>', 'execution provider: cpu, cuda, coreml, dml, webgpu')
    .option('--name <name>', 'name shown in this worker’s logs')
    .option('--max-jobs <n>', 'exit 0 after taking this many jobs')
    .option('--until <time>', 'stop taking jobs at an ISO time or after a duration (e.g. 3h55m)')
    .option('--max-pixels <n>', 'largest width×height to accept')
    .option('--log-level <level>', 'pino log level (default info, or LOG_LEVEL)')
    .action(async (opts: WorkerCommandOptions) => {
      const { worker } = await import('./commands/worker.js');
      // Exit right away: an idle keep-alive socket must not hold a finished worker for seconds.
      process.exit(await worker(opts));
    });

  return program;
}
