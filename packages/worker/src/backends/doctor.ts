// `dreamfold worker doctor`: checks, one verdict per line, whether this machine can run the onnx backend —
// Node, the ONNX Runtime binding, execution providers, memory against the platform minimum, the coordinator
// and the worker key, and each model folder up to a timed one-step generation. Checks come out one by one (an
// async generator) so a donor sees progress while a model loads. ONNX Runtime is imported only here, inside a
// check: a binding that does not load is a verdict, not a crash.
import { tmpdir } from 'node:os';
import type * as DiffusionApi from '@dreamfold/diffusion';
import type { ProviderName } from '@dreamfold/diffusion';
import { ProblemError } from '../errors.js';
import { CoordinatorClient } from '../client.js';
import {
  DONOR_MIN_MEMORY_MB,
  GUIDANCE_CHOICES,
  isGuidanceChoice,
  memoryOf,
  probeResources,
  type Resources,
} from '../resources.js';
import { WORKER_VERSION } from '../version.js';
import { ONNX_DEFAULT_MAX_PIXELS } from './choice.js';
import { modelChecks } from './doctor-models.js';

export type DoctorVerdict = 'ok' | 'warn' | 'fail' | 'info';

export interface DoctorCheck {
  /** What was checked, e.g. "node", "provider cuda", "model sd-1.5 loads". */
  check: string;
  /** fail: the worker cannot run as asked; warn: it can, with a caveat; info: not a requirement. */
  verdict: DoctorVerdict;
  detail: string;
}

export interface DoctorOptions {
  modelDirs: string[];
  /** The execution provider the worker would be started with (default cpu). */
  provider?: string;
  maxPixels?: number;
  /** How the worker would run guidance (default batched); sequential needs about half the activations. */
  guidance?: string;
  /** Checked when given: reachable (GET /healthz) and, with `key`, the worker key accepted. */
  serverUrl?: string;
  key?: string;
  /** The nvidia-smi command (tests point it elsewhere). */
  nvidiaSmi?: string;
}

/** The Node versions the project supports (package.json engines: >= 20.19). */
const MIN_NODE: readonly [number, number] = [20, 19];

export const check = (name: string, verdict: DoctorVerdict, detail: string): DoctorCheck => ({
  check: name,
  verdict,
  detail,
});

export const mb = (value: number) =>
  value >= 1024
    ? `${(value / 1024).toFixed(1)} GiB`
    : value >= 1
      ? `${Math.round(value)} MiB`
      : `${Math.ceil(value * 1024)} KiB`;

export async function* runDoctor(options: DoctorOptions): AsyncGenerator<DoctorCheck> {
  yield nodeCheck(process.versions.node);
  const provider = options.provider ?? 'cpu';
  const resources = await probeResources(tmpdir(), options.nvidiaSmi);
  yield* memoryChecks(resources, provider);
  yield* coordinatorChecks(options);

  let diffusion: typeof DiffusionApi;
  try {
    diffusion = await import('@dreamfold/diffusion');
  } catch (err) {
    yield check(
      'onnxruntime-node',
      'fail',
      `the native binding does not load: ${(err as Error).message}. Reinstall with \`npm rebuild onnxruntime-node\`.`,
    );
    return;
  }
  yield check(
    'onnxruntime-node',
    'ok',
    `${diffusion.runtimeVersion()} loaded (${process.platform}-${process.arch})`,
  );

  let providerReady = false;
  if (!diffusion.isProviderName(provider)) {
    yield check(
      'provider',
      'fail',
      `unknown --provider "${provider}"; choose one of ${diffusion.PROVIDER_NAMES.join(', ')}`,
    );
  }
  for (const status of await diffusion.availableProviders()) {
    const asked = status.name === provider;
    if (asked) providerReady = status.available;
    const detail = status.available ? 'available' : (status.reason ?? 'unavailable');
    yield check(
      `provider ${status.name}`,
      asked ? (status.available ? 'ok' : 'fail') : 'info',
      asked ? `${detail} (asked for)` : detail,
    );
  }

  const guidance = options.guidance ?? 'batched';
  if (!isGuidanceChoice(guidance)) {
    yield check(
      'guidance',
      'fail',
      `unknown --guidance "${guidance}"; choose ${GUIDANCE_CHOICES.join(' or ')}`,
    );
    return;
  }
  if (options.modelDirs.length === 0) {
    yield check('models', 'warn', 'no --model-dir given: the worker needs at least one model folder');
    return;
  }
  for (const dir of options.modelDirs) {
    yield* modelChecks(diffusion, dir, {
      provider: provider as ProviderName,
      providerReady,
      resources,
      maxPixels: options.maxPixels ?? ONNX_DEFAULT_MAX_PIXELS,
      guidance,
    });
  }
}

export function nodeCheck(version: string): DoctorCheck {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const supported = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return check(
    'node',
    supported ? 'ok' : 'fail',
    supported
      ? `${version} (needs ≥ ${MIN_NODE.join('.')})`
      : `${version} is too old: install Node.js ${MIN_NODE.join('.')} or newer (an LTS line: 20, 22 or 24)`,
  );
}

/**
 * RAM always; VRAM where nvidia-smi can read it. The provider's memory (VRAM for cuda/dml/webgpu, RAM for
 * cpu and CoreML's unified memory) is compared with the platform minimum: too little in total fails, too
 * little free right now (a game, a browser) warns.
 */
export function* memoryChecks(r: Resources, provider: string): Generator<DoctorCheck> {
  const need = mb(DONOR_MIN_MEMORY_MB);
  const kind = memoryOf(provider);
  const verdict = (total: number, free: number) =>
    total < DONOR_MIN_MEMORY_MB ? 'fail' : free < DONOR_MIN_MEMORY_MB ? 'warn' : 'ok';
  const versus = (total: number, free: number) =>
    total < DONOR_MIN_MEMORY_MB
      ? `; below the ${need} a Stable Diffusion 1.5 model needs`
      : free < DONOR_MIN_MEMORY_MB
        ? `; less than ${need} free now: other programs hold the rest`
        : ` (≥ ${need} needed)`;
  const ramNote = kind === 'ram' ? versus(r.ramTotalMb, r.ramFreeMb) : '';
  yield check(
    'ram',
    kind === 'ram' ? verdict(r.ramTotalMb, r.ramFreeMb) : 'info',
    `${mb(r.ramFreeMb)} free of ${mb(r.ramTotalMb)}${ramNote}`,
  );
  if (!r.gpus) {
    yield check(
      'vram',
      kind === 'vram' ? 'warn' : 'info',
      `unknown: no nvidia-smi on this machine${kind === 'vram' ? `; make sure the GPU has ≥ ${need}` : ''}`,
    );
  } else {
    const gpu = r.gpus.reduce((a, g) => (g.totalMb > a.totalMb ? g : a));
    const free = gpu.totalMb - gpu.usedMb;
    yield check(
      'vram',
      kind === 'vram' ? verdict(gpu.totalMb, free) : 'info',
      `${gpu.name}: ${mb(free)} free of ${mb(gpu.totalMb)}` +
        (kind === 'vram' ? versus(gpu.totalMb, free) : '') +
        (r.gpus.length > 1 ? ` (largest of ${r.gpus.length} GPUs)` : ''),
    );
  }
}

async function* coordinatorChecks(o: DoctorOptions): AsyncGenerator<DoctorCheck> {
  if (!o.serverUrl) {
    yield check('coordinator', 'info', 'not checked: pass --server URL (and set DREAMFOLD_WORKER_KEY)');
    return;
  }
  let base: string;
  try {
    const url = new URL(o.serverUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    base = url.toString().replace(/\/+$/, '');
  } catch {
    yield check('coordinator', 'fail', `--server must be an http(s) URL; got "${o.serverUrl}"`);
    return;
  }
  try {
    const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`/healthz answered ${res.status}`);
    yield check('coordinator', 'ok', `${base} is reachable`);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    yield check('coordinator', 'fail', `${base} is not reachable: ${cause ?? (err as Error).message}`);
    return;
  }
  if (!o.key) {
    yield check('worker key', 'fail', 'not set: set DREAMFOLD_WORKER_KEY (or pass --key)');
    return;
  }
  if (!o.key.startsWith('dfw_')) {
    yield check('worker key', 'fail', 'not a worker key (worker keys start with "dfw_")');
    return;
  }
  const client = new CoordinatorClient({
    serverUrl: base,
    key: o.key,
    userAgent: `dreamfold-doctor/${WORKER_VERSION}`,
    requestTimeoutMs: 10_000,
  });
  try {
    const me = await client.whyIdle();
    yield check('worker key', 'ok', `accepted: worker ${me.workerId}, state ${me.state}`);
  } catch (err) {
    const refused = err instanceof ProblemError && (err.status === 401 || err.status === 403);
    const message = err instanceof Error ? err.message : String(err);
    yield check('worker key', 'fail', refused ? `refused by the coordinator: ${message}` : message);
  }
}
