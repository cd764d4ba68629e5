// `dreamfold aesthetics install|status`: put a trained predictor on a running coordinator and follow how
// far it has scored the platform's images. Both call the admin API (PUT /v1/admin/aesthetics/predictor,
// GET /v1/admin/aesthetics/scoring) with an admin's API key, read from DREAMFOLD_API_KEY so that it does
// not show in `ps` (--key exists for quick trials).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AestheticPredictorInfo, ScoringStatus } from '@dreamfold/protocol';
import { CliError } from '../errors.js';

export const API_KEY_ENV = 'DREAMFOLD_API_KEY';
/** What `dreamfold admin create-user` suggests exporting; accepted when DREAMFOLD_API_KEY is unset. */
const FALLBACK_KEY_ENV = 'DREAMFOLD_KEY';
const SERVER_ENV = 'DREAMFOLD_SERVER';
/** The coordinator's limit on a predictor upload (scoring/routes.ts MAX_PREDICTOR_BYTES). */
const MAX_PREDICTOR_BYTES = 64 * 1024 * 1024;

export interface AdminApiOptions {
  server?: string;
  key?: string;
  json?: boolean;
}

export interface InstallCommandOptions extends AdminApiOptions {
  model: string;
}

export async function install(o: InstallCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const api = adminApi(o, env);
  const file = await modelFile(o.model);
  const bytes = await readFile(file);
  if (bytes.length > MAX_PREDICTOR_BYTES) {
    throw new CliError(
      `${file} is ${bytes.length} bytes; a predictor may be at most ${MAX_PREDICTOR_BYTES}.`,
    );
  }
  const info = await api.call<AestheticPredictorInfo>(
    'install the predictor',
    'PUT',
    '/v1/admin/aesthetics/predictor',
    {
      body: bytes,
      contentType: 'application/octet-stream',
    },
  );
  if (o.json) return console.log(JSON.stringify(info));
  console.log(`Installed predictor ${info.id} from ${file}: ${describePredictor(info)}.`);
  console.log(
    'It is current now: new images are scored with it and every stored image is being scored again ' +
      '(follow with `dreamfold aesthetics status`).',
  );
}

export async function status(o: AdminApiOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const s = await adminApi(o, env).call<ScoringStatus>(
    'read the scoring status',
    'GET',
    '/v1/admin/aesthetics/scoring',
  );
  if (o.json) return console.log(JSON.stringify(s));
  for (const line of statusLines(s)) console.log(line);
}

export function statusLines(s: ScoringStatus): string[] {
  if (!s.predictor) {
    return [
      'Predictor: none installed; nothing is scored (install one with `dreamfold aesthetics install`).',
      `Embeddings: ${s.embeddings} finished images have one (${s.embeddingDim}-d).`,
    ];
  }
  const p = s.predictor;
  const share = s.embeddings > 0 ? ` (${((100 * s.scored) / s.embeddings).toFixed(1)}%)` : '';
  const rescore = s.rescore.done
    ? `done${s.rescore.finishedAt ? ` at ${s.rescore.finishedAt}` : ''} (${s.rescore.visited} visited)`
    : `in progress since ${s.rescore.startedAt ?? p.installedAt}: ${s.rescore.visited} of ${s.embeddings} visited`;
  return [
    `Predictor: ${p.id}, installed ${p.installedAt}${p.installedBy ? ` by ${p.installedBy}` : ''}: ${describePredictor(p)}.`,
    `Scored: ${s.scored} of ${s.embeddings} images with an embedding${share}.`,
    `Re-scoring: ${rescore}.`,
    `Queued: ${s.queued} new embeddings waiting for the scorer.`,
  ];
}

function describePredictor(p: AestheticPredictorInfo): string {
  const parts = [
    `${p.dim}-d ${p.embeddingModel} embeddings`,
    `${p.bytes} bytes`,
    `sha256 ${p.sha256.slice(0, 12)}…`,
  ];
  if (p.validationMse !== undefined) parts.push(`validation MSE ${p.validationMse.toFixed(4)}`);
  if (p.validationSpearman !== undefined) parts.push(`Spearman ${p.validationSpearman.toFixed(4)}`);
  return parts.join(', ');
}

/** A model file, or a folder holding exactly one `.safetensors` file (what `aesthetics train --out` writes). */
async function modelFile(path: string): Promise<string> {
  const info = await stat(path).catch(() => {
    throw new CliError(`--model ${path} does not exist.`);
  });
  if (!info.isDirectory()) return path;
  const found = (await readdir(path)).filter((name) => name.endsWith('.safetensors')).sort();
  if (found.length === 1) return join(path, found[0] as string);
  throw new CliError(
    found.length === 0
      ? `--model ${path} is a folder with no .safetensors file; name the model file itself.`
      : `--model ${path} holds several .safetensors files (${found.join(', ')}); name the one to install.`,
  );
}

function adminApi(o: AdminApiOptions, env: NodeJS.ProcessEnv) {
  const server = o.server ?? (env[SERVER_ENV] || undefined);
  if (!server) throw new CliError(`--server is required (or set ${SERVER_ENV}).`);
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new CliError(`--server must be a URL such as https://dreamfold.example.org; got "${server}".`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new CliError('--server must be http(s).');
  const key = o.key ?? (env[API_KEY_ENV] || env[FALLBACK_KEY_ENV] || undefined);
  if (!key) throw new CliError(`An admin's API key is required: set ${API_KEY_ENV} (or pass --key).`);
  const root = base.toString().replace(/\/+$/, '');
  return {
    /** Calls the API; a refusal or an unreachable server becomes one line naming what failed and why. */
    async call<T>(
      what: string,
      method: 'GET' | 'PUT',
      path: string,
      send?: { body: Uint8Array; contentType: string },
    ): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${root}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${key}`,
            ...(send ? { 'content-type': send.contentType } : {}),
          },
          body: send?.body,
        });
      } catch (err) {
        const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
        throw new CliError(`Could not ${what}: ${root} did not answer (${cause}).`);
      }
      const text = await res.text();
      if (!res.ok) {
        let problem: { type?: string; detail?: string } = {};
        try {
          problem = JSON.parse(text) as typeof problem;
        } catch {
          // not problem+json (a proxy's page, say): the status says enough
        }
        const why = [problem.type, problem.detail].filter(Boolean).join(': ');
        throw new CliError(`Could not ${what}: ${res.status}${why ? ` ${why}` : ''}`);
      }
      return JSON.parse(text) as T;
    },
  };
}
