// Builds the web app once per test process with Vite's API, into packages/web/dist, which the
// coordinator serves at `/` (packages/server/src/http/web-app.ts).
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const WEB_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let built: Promise<void> | undefined;

export function buildWebApp(): Promise<void> {
  built ??= build({ root: WEB_ROOT, configFile: `${WEB_ROOT}vite.config.ts`, logLevel: 'warn' }).then(
    () => undefined,
  );
  return built;
}
