// `dreamfold worker doctor`: prints, as a table, what this machine can run (see runDoctor in the worker
// package), one line per check as it finishes, then a verdict. Exits 1 when any check failed, so a script
// or a batch job can test a node before it starts the worker.
import { SERVER_URL_ENV, WORKER_KEY_ENV, runDoctor, type DoctorVerdict } from '@dreamfold/worker';
import { CliError } from '../errors.js';

export interface DoctorCommandOptions {
  server?: string;
  key?: string;
  modelDir: string[];
  provider?: string;
  maxPixels?: string;
  guidance?: string;
  json?: boolean;
}

const LABEL: Record<DoctorVerdict, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', info: '-' };
const CHECK_WIDTH = 30;

export async function doctor(
  options: DoctorCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
  print: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  let maxPixels: number | undefined;
  if (options.maxPixels !== undefined) {
    maxPixels = Number(options.maxPixels);
    if (!Number.isInteger(maxPixels) || maxPixels < 1) {
      throw new CliError(`--max-pixels must be a positive integer; got "${options.maxPixels}".`);
    }
  }
  const serverUrl = options.server ?? env[SERVER_URL_ENV];
  const key = options.key ?? env[WORKER_KEY_ENV];
  const counts: Record<DoctorVerdict, number> = { ok: 0, warn: 0, fail: 0, info: 0 };
  if (!options.json) print(`${'CHECK'.padEnd(CHECK_WIDTH)}  RESULT  DETAIL`);
  for await (const line of runDoctor({
    modelDirs: options.modelDir,
    ...(options.provider ? { provider: options.provider } : {}),
    ...(maxPixels ? { maxPixels } : {}),
    ...(options.guidance ? { guidance: options.guidance } : {}),
    ...(serverUrl ? { serverUrl } : {}),
    ...(key ? { key } : {}),
  })) {
    counts[line.verdict]++;
    print(
      options.json
        ? JSON.stringify(line)
        : `${line.check.padEnd(CHECK_WIDTH)}  ${LABEL[line.verdict].padEnd(6)}  ${line.detail}`,
    );
  }
  const verdict =
    counts.fail > 0
      ? `cannot run: ${counts.fail} check${counts.fail === 1 ? '' : 's'} failed (FAIL above)`
      : counts.warn > 0
        ? `can run, with ${counts.warn} warning${counts.warn === 1 ? '' : 's'}`
        : 'can run';
  if (options.json) print(JSON.stringify({ verdict: counts.fail > 0 ? 'fail' : 'ok', ...counts }));
  else print(`\nverdict: this worker ${verdict}`);
  return counts.fail > 0 ? 1 : 0;
}
