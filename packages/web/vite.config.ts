// Builds the single-page app into dist/, which the coordinator serves at `/` (packages/server/src/http/web-app.ts).
// `npm run dev -w @dreamfold/web` serves it with hot reload and forwards API calls to a coordinator on :8080.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const coordinator = process.env.DREAMFOLD_SERVER ?? 'http://127.0.0.1:8080';

/** Writes .br and .gz beside each text asset; the coordinator serves them to browsers that accept them. */
function precompress(): Plugin {
  const br = promisify(brotliCompress);
  const gz = promisify(gzip);
  let outDir = '';
  return {
    name: 'dreamfold-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    async closeBundle() {
      const files = await readdir(outDir, { recursive: true });
      await Promise.all(
        files
          .filter((file) => /\.(js|css|html|svg|json)$/.test(file))
          .map(async (file) => {
            const path = join(outDir, file);
            const data = await readFile(path);
            if (data.length < 1024) return;
            await writeFile(
              `${path}.br`,
              await br(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
            );
            await writeFile(`${path}.gz`, await gz(data, { level: 9 }));
          }),
      );
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  resolve: {
    // The protocol's TypeScript sources, so the app builds without compiling the protocol package first.
    alias: {
      '@dreamfold/protocol': fileURLToPath(new URL('../protocol/src/index.ts', import.meta.url)),
    },
  },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // Everything as files: the Content-Security-Policy allows no inline code.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: {
    proxy: Object.fromEntries(
      ['/v1', '/docs', '/openapi.json', '/healthz'].map((path) => [path, { target: coordinator }]),
    ),
  },
});
