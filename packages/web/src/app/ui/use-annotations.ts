// One kind of annotation task at a time: fetch a task, answer it (with an Idempotency-Key, so a retried
// answer is not counted twice), fetch the next. Expired or already-answered tasks are skipped silently.
import { useCallback, useEffect, useRef, useState } from 'react';
import type {
  AnnotationAnswer,
  AnnotationKind,
  AnnotationTask,
  AnswerAnnotationBody,
  NextAnnotation,
} from '@dreamfold/protocol';
import { ApiError, api, newIdempotencyKey } from '../api/client.js';

export interface AnnotationQueue {
  task: AnnotationTask | null | undefined;
  loading: boolean;
  answering: boolean;
  error: unknown;
  last: AnnotationAnswer | undefined;
  /** Credits earned on this page since it opened. */
  earned: number;
  answered: number;
  answer(body: AnswerAnnotationBody): Promise<void>;
  next(): void;
}

export function useAnnotationQueue(kind: AnnotationKind, enabled = true): AnnotationQueue {
  const [task, setTask] = useState<AnnotationTask | null>();
  const [loading, setLoading] = useState(false);
  const [answering, setAnswering] = useState(false);
  const [error, setError] = useState<unknown>();
  const [last, setLast] = useState<AnnotationAnswer>();
  const [earned, setEarned] = useState(0);
  const [answered, setAnswered] = useState(0);
  const keys = useRef(new Map<string, string>());
  const request = useRef<AbortController | undefined>(undefined);

  const next = useCallback(() => {
    request.current?.abort();
    const controller = new AbortController();
    request.current = controller;
    setLoading(true);
    setError(undefined);
    api
      .get<NextAnnotation>('/v1/annotations/next', { query: { kind }, signal: controller.signal })
      .then((result) => {
        if (!controller.signal.aborted) setTask(result.task);
      })
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setError(err);
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
  }, [kind]);

  useEffect(() => {
    if (!enabled) return;
    setTask(undefined);
    next();
    return () => request.current?.abort();
  }, [next, enabled]);

  const answer = useCallback(
    async (body: AnswerAnnotationBody) => {
      if (!task || answering) return;
      let key = keys.current.get(task.id);
      if (!key) {
        key = newIdempotencyKey();
        keys.current.set(task.id, key);
      }
      setAnswering(true);
      setError(undefined);
      try {
        const result = await api.post<AnnotationAnswer>(`/v1/annotations/${task.id}`, body, {
          idempotencyKey: key,
        });
        setLast(result);
        setEarned((e) => e + result.creditsEarned);
        setAnswered((n) => n + 1);
        next();
      } catch (err) {
        // Expired (410) or already answered elsewhere (409): move on to a fresh task.
        if (err instanceof ApiError && (err.status === 410 || err.status === 409)) next();
        else setError(err);
      } finally {
        setAnswering(false);
      }
    },
    [task, answering, next],
  );

  return { task, loading, answering, error, last, earned, answered, answer, next };
}
