// HTTP for dataset releases: the public list and file downloads (paths checked against the release's
// manifest, single byte ranges for resuming large shards), and the admin's release schedule.
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  DatasetFileParams,
  DatasetReleaseList,
  DatasetSchedule,
  DatasetScheduleBody,
  ListQuery,
  Problem,
} from '@dreamfold/protocol';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { userOf } from '../http/auth.js';
import { bearerSecurity, problems } from '../http/schemas.js';
import { decodeCursor, encodeCursor } from '../moderation/cursor.js';

const CONTENT_TYPES: Record<string, string> = {
  '.parquet': 'application/vnd.apache.parquet',
  '.tar': 'application/x-tar',
  '.npy': 'application/octet-stream',
  '.json': 'application/json',
  '.md': 'text/markdown; charset=utf-8',
};

const Binary = Type.Unsafe<Readable>({ type: 'string', format: 'binary' });

/** One `bytes=a-b` / `bytes=a-` / `bytes=-n` range within `size`; undefined for none, null if unsatisfiable. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // several ranges or garbage: send it all
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return null;
  return { start, end };
}

export const datasetRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { datasets } = services;

  app.get(
    '/v1/datasets',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['datasets'],
        summary: 'Published dataset releases, newest first, with their counts and where to download them.',
        querystring: ListQuery,
        response: { 200: DatasetReleaseList, ...problems },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? 20;
      const before = decodeCursor(req.query.cursor, ['number', 'string'] as const);
      const { rows, items } = await datasets.list(limit, before);
      const last = rows[rows.length - 1];
      return rows.length === limit && last
        ? { items, nextCursor: encodeCursor([Number(last.created_at), last.name]) }
        : { items };
    },
  );

  app.get(
    '/v1/datasets/:name/*',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['datasets'],
        summary:
          'A file of a release: manifest.json, README.md, metadata.parquet, shards/00000.tar, … (only paths its manifest lists). Supports one byte range.',
        params: DatasetFileParams,
        produces: Object.values(CONTENT_TYPES),
        response: { 200: Binary, 206: Binary, 416: Problem, ...problems },
      },
    },
    async (req, reply) => {
      const { name } = req.params;
      // The wildcard rest of the URL (not in the schema: see DatasetFileParams).
      const path = (req.params as Record<string, string | undefined>)['*'] ?? '';
      const file = await datasets.file(name, path);
      const range = parseRange(req.headers.range, file.bytes);
      if (range === null) {
        return reply
          .code(416)
          .header('content-range', `bytes */${file.bytes}`)
          .type('application/problem+json')
          .send({
            type: 'range_not_satisfiable',
            title: 'The requested range is not in the file',
            status: 416,
            detail: `The file has ${file.bytes} bytes.`,
          });
      }
      reply
        .type(CONTENT_TYPES[posix.extname(path)] ?? 'application/octet-stream')
        .header('accept-ranges', 'bytes')
        .header('etag', `"${file.sha256}"`)
        // Release files never change: a release is immutable once ready.
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('content-disposition', `attachment; filename="${posix.basename(path)}"`);
      if (range === undefined) {
        reply.header('content-length', file.bytes);
        return reply.send(createReadStream(file.path));
      }
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${file.bytes}`)
        .header('content-length', range.end - range.start + 1)
        .send(createReadStream(file.path, { start: range.start, end: range.end }));
    },
  );

  app.get(
    '/v1/admin/datasets/schedule',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['datasets'],
        summary: 'The dataset release schedule.',
        security: bearerSecurity,
        response: { 200: DatasetSchedule, ...problems },
      },
    },
    async () => datasets.schedule(),
  );

  app.put(
    '/v1/admin/datasets/schedule',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['datasets'],
        summary:
          'Release a dataset every intervalHours (the first one intervalHours from now), or stop with null. Checked by the coordinator every minute.',
        security: bearerSecurity,
        body: DatasetScheduleBody,
        response: { 200: DatasetSchedule, ...problems },
      },
    },
    async (req) => datasets.setSchedule(req.body.intervalHours, userOf(req).userId),
  );
};
