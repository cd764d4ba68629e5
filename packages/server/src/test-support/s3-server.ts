// A real S3-compatible server for tests: s3rver 3.7 (works on Node 20), in-process, on 127.0.0.1 and a free
// port, storing objects in a temp folder.
//
// s3rver accepts only the access key id "S3RVER" and does not check SigV4 signatures at all. Presigned
// uploads are the one place where the signature *is* the security (it pins the key, the content type and
// the lifetime), so requests that carry a SigV4 query signature are checked here, the way S3 checks them,
// before s3rver sees them: a worker that changes the key, the content type or comes too late gets a 403.
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { S3BlobStore } from '../storage/s3-store.js';
import { tempDir } from './databases.js';

/** The only key pair s3rver knows. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer: Server;
}
type S3rverConstructor = new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

// s3rver is CommonJS without type declarations.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

export interface TestS3Server {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  bucket: string;
  region: string;
  /** A store on the whole bucket (no prefix), for looking at what others wrote. */
  store: S3BlobStore;
  /** A fresh store with its own client: give one to each coordinator, whose close() destroys it. */
  createStore(options?: { prefix?: string; now?: () => number }): S3BlobStore;
  /** How many presigned requests were refused (bad signature or expired). */
  refusedPresigned(): number;
  close(): Promise<void>;
}

export interface TestS3ServerOptions {
  bucket?: string;
  /** The clock presigned URLs are checked against (default: real time). */
  now?: () => number;
}

export async function startS3Server(options: TestS3ServerOptions = {}): Promise<TestS3Server> {
  const bucket = options.bucket ?? 'dreamfold-test';
  if (bucket.length < 3) throw new Error('s3rver needs bucket names of at least 3 characters');
  const region = 'us-east-1';
  const directory = tempDir('dreamfold-s3-');
  const now = options.now ?? Date.now;
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;

  // Put the presigned-URL check in front of s3rver's own request handler.
  let refused = 0;
  const http = server.httpServer;
  const s3rverHandlers = http.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  http.removeAllListeners('request');
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const problem = checkPresigned(req, S3RVER_CREDENTIALS.secretAccessKey, now());
    if (problem) {
      refused++;
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${problem}</Code></Error>`);
      return;
    }
    for (const handler of s3rverHandlers) handler(req, res);
  });

  const stores: S3BlobStore[] = [];
  const createStore = (o: { prefix?: string; now?: () => number } = {}): S3BlobStore => {
    const store = new S3BlobStore({
      bucket,
      prefix: o.prefix,
      now: o.now,
      client: { endpoint, region, forcePathStyle: true, credentials: S3RVER_CREDENTIALS },
    });
    stores.push(store);
    return store;
  };
  const store = createStore();

  return {
    endpoint,
    bucket,
    region,
    store,
    createStore,
    refusedPresigned: () => refused,
    close: async () => {
      // Closing a store twice is harmless (the client is just destroyed again).
      for (const s of stores) await s.close();
      http.closeAllConnections();
      // Let s3rver log the requests those connections ended before close() shuts its logger.
      await new Promise((resolve) => setTimeout(resolve, 10));
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Checks a SigV4 query-string signature (a presigned URL) like S3 does. Returns an S3 error code, or
 * undefined when the request is not presigned or the signature holds. Only UNSIGNED-PAYLOAD, which is what
 * presigned PUTs use.
 */
function checkPresigned(req: IncomingMessage, secret: string, nowMs: number): string | undefined {
  const [path = '/', rawQuery = ''] = (req.url ?? '/').split('?', 2);
  const query = new URLSearchParams(rawQuery);
  const signature = query.get('X-Amz-Signature');
  if (!signature) return undefined;
  const amzDate = query.get('X-Amz-Date') ?? '';
  const credential = query.get('X-Amz-Credential') ?? '';
  const signedHeaders = (query.get('X-Amz-SignedHeaders') ?? '').split(';');
  const expires = Number(query.get('X-Amz-Expires'));
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!date || !Number.isInteger(expires) || !credential.includes('/'))
    return 'AuthorizationQueryParametersError';
  const signedAt = Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!);
  if (nowMs > signedAt + expires * 1000) return 'AccessDenied';

  const canonicalQuery = [...query.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [escape(k), escape(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const value = req.headers[name];
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonicalRequest = [
    req.method,
    path,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    query.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = credential.slice(credential.indexOf('/') + 1);
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  let key: Buffer = Buffer.from(`AWS4${secret}`);
  for (const part of scope.split('/')) key = createHmac('sha256', key).update(part).digest();
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  return expected === signature ? undefined : 'SignatureDoesNotMatch';
}

/** RFC 3986 escaping, as SigV4 canonical requests use. */
function escape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
