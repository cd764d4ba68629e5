// Loads data for a page: keeps the previous data while reloading (no flash of empty content), cancels
// requests a page no longer needs, and can poll.
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
  /** Replace the data locally (after a change the server has acknowledged). */
  set(update: (data: T | undefined) => T | undefined): void;
}

export function useResource<T>(
  load: ((signal: AbortSignal) => Promise<T>) | undefined,
  deps: readonly unknown[],
  options: { pollMs?: number } = {},
): Resource<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(!!load);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const run = loadRef.current;
    if (!run) {
      setLoading(false);
      return;
    }
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fetchOnce = (first: boolean) => {
      if (first) setLoading(true);
      run(controller.signal)
        .then((value) => {
          if (controller.signal.aborted) return;
          setData(value);
          setError(undefined);
        })
        .catch((err: unknown) => {
          if (!controller.signal.aborted) setError(err);
        })
        .finally(() => {
          if (controller.signal.aborted) return;
          setLoading(false);
          if (options.pollMs) timer = setTimeout(() => fetchOnce(false), options.pollMs);
        });
    };
    fetchOnce(true);
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller lists what the loader depends on
  }, [...deps, generation, options.pollMs]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, loading, reload, set: setData };
}
