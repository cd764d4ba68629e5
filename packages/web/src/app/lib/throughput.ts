// Worker throughput from periodic samples of each worker's jobsDone counter: jobs per minute over a
// sliding window, one series per worker. Pure, so it is tested without a browser.

export interface Sample {
  /** ms since the epoch */
  at: number;
  jobsDone: Record<string, number>;
}

export interface Series {
  /** Seconds since the epoch (uPlot's x unit). */
  times: number[];
  /** Per worker id, jobs per minute at each time (null before the window has two samples). */
  rates: Record<string, (number | null)[]>;
}

export function throughput(samples: readonly Sample[], windowMs = 60_000): Series {
  const ids = [...new Set(samples.flatMap((s) => Object.keys(s.jobsDone)))];
  const times: number[] = [];
  const rates: Record<string, (number | null)[]> = Object.fromEntries(ids.map((id) => [id, []]));
  let start = 0;
  for (let i = 0; i < samples.length; i++) {
    const now = samples[i]!;
    while (start < i && now.at - samples[start]!.at > windowMs) start++;
    const first = samples[start]!;
    times.push(now.at / 1000);
    for (const id of ids) {
      const a = first.jobsDone[id];
      const b = now.jobsDone[id];
      const minutes = (now.at - first.at) / 60_000;
      rates[id]!.push(
        a === undefined || b === undefined || minutes <= 0 ? null : Math.max(0, b - a) / minutes,
      );
    }
  }
  return { times, rates };
}

/** Appends a sample, keeping at most `max` (the chart shows the recent past only). */
export function addSample(samples: readonly Sample[], sample: Sample, max = 720): Sample[] {
  const next = [...samples, sample];
  return next.length > max ? next.slice(next.length - max) : next;
}
