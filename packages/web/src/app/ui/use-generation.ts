// Follows one generation live: server-sent events while it runs (EventSource reconnects by itself and the
// server starts every connection with a snapshot), polling if the stream cannot be opened, nothing once
// it has finished.
import { useEffect, useReducer, useState } from 'react';
import type { Generation, GenerationEvent } from '@dreamfold/protocol';
import { api } from '../api/client.js';
import { applyEvent, viewOf, type GenerationView } from '../lib/generation-view.js';

const EVENT_TYPES: GenerationEvent['type'][] = [
  'snapshot',
  'queued',
  'started',
  'progress',
  'image',
  'requeued',
  'failed',
  'cancelled',
  'finished',
];

type Action = { event: GenerationEvent; now: number } | { reset: GenerationView | undefined };

function reducer(view: GenerationView | undefined, action: Action): GenerationView | undefined {
  if ('reset' in action) return action.reset;
  return applyEvent(view, action.event, action.now);
}

export function useGeneration(id: string | undefined, initial?: Generation) {
  const [view, dispatch] = useReducer(reducer, initial ? viewOf(initial) : undefined);
  const [error, setError] = useState<unknown>();
  const finished = view?.generation.id === id && view?.finished;

  useEffect(() => {
    dispatch({ reset: initial && initial.id === id ? viewOf(initial) : undefined });
    setError(undefined);
    // `initial` only seeds the view when the id changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);

  useEffect(() => {
    if (!id || finished) return;
    let closed = false;
    let pollTimer: ReturnType<typeof setTimeout> | undefined;
    const source = new EventSource(`/v1/generations/${encodeURIComponent(id)}/events`);
    const poll = () => {
      api
        .get<Generation>(`/v1/generations/${encodeURIComponent(id)}`)
        .then((generation) => {
          if (closed) return;
          setError(undefined);
          dispatch({ event: { type: 'snapshot', generation }, now: Date.now() });
          if (generation.status === 'queued' || generation.status === 'running')
            pollTimer = setTimeout(poll, 2000);
        })
        .catch((err: unknown) => {
          if (closed) return;
          setError(err);
          pollTimer = setTimeout(poll, 5000);
        });
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (message) => {
        const event = JSON.parse((message as MessageEvent<string>).data) as GenerationEvent;
        setError(undefined);
        dispatch({ event, now: Date.now() });
        if (event.type === 'finished') source.close();
      });
    }
    source.onerror = () => {
      // CONNECTING: the browser retries by itself. CLOSED: the server refused the stream; poll instead.
      if (source.readyState === EventSource.CLOSED && !closed) poll();
    };
    return () => {
      closed = true;
      source.close();
      if (pollTimer) clearTimeout(pollTimer);
    };
  }, [id, finished]);

  return { view: view?.generation.id === id ? view : undefined, error, dispatch };
}
