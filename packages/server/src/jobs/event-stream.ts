// GET /v1/generations/:id/events as server-sent events. The stream subscribes before it reads the
// snapshot, so nothing that happens in between is missed; it ends after `finished`. While images are
// queued it re-reads the queue position every few seconds (one indexed count) and sends it when it changes.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GenerationEvent } from '@dreamfold/protocol';
import type { Services } from '../services.js';
import { isFinished } from './views.js';

const KEEPALIVE_MS = 15_000;
const POSITION_MS = 2_000;

export async function streamGenerationEvents(
  services: Services,
  _request: FastifyRequest,
  reply: FastifyReply,
  viewer: { userId: string; staff: boolean },
  generationId: string,
): Promise<void> {
  const pending: GenerationEvent[] = [];
  let ready = false;
  let closed = false;
  const raw = reply.raw;

  const write = (event: GenerationEvent) => {
    if (closed) return;
    raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    if (event.type === 'finished') close();
  };
  const unsubscribe = services.bus.onGeneration(generationId, (event) =>
    ready ? write(event) : pending.push(event),
  );
  let lastPosition: number | undefined;
  const positionTimer = setInterval(() => {
    void services.generations
      .get(viewer, generationId)
      .then((g) => {
        if (g.queuePosition !== undefined && g.queuePosition !== lastPosition) {
          lastPosition = g.queuePosition;
          write({ type: 'queued', position: g.queuePosition });
        }
      })
      .catch(() => {});
  }, POSITION_MS);
  const keepalive = setInterval(() => !closed && raw.write(': keepalive\n\n'), KEEPALIVE_MS);
  function close() {
    if (closed) return;
    closed = true;
    unsubscribe();
    services.leases.shutdownSignal.removeEventListener('abort', close);
    clearInterval(positionTimer);
    clearInterval(keepalive);
    raw.end();
  }
  raw.on('close', close);
  services.leases.shutdownSignal.addEventListener('abort', close, { once: true });

  const snapshot = await services.generations.get(viewer, generationId);
  reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  write({ type: 'snapshot', generation: snapshot });
  if (snapshot.queuePosition !== undefined) {
    lastPosition = snapshot.queuePosition;
    write({ type: 'queued', position: snapshot.queuePosition });
  }
  ready = true;
  // A finished generation cannot change again, so its snapshot already holds everything the events
  // that arrived while it was read describe. Replaying them would tell the client of a cancellation
  // or an image after a snapshot that shows it (on PostgreSQL a NOTIFY can arrive after the reply to
  // the request that caused it).
  if (isFinished(snapshot.status)) write({ type: 'finished', status: snapshot.status });
  else for (const event of pending.splice(0)) write(event);
}
