import { readFileSync } from 'node:fs';
/** Timing and memory helpers for the benchmark. Times are in milliseconds. */

export interface Summary {
  samples: number;
  median: number;
  p95: number;
  p99: number;
}

export function summarise(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { samples: sorted.length, median: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/**
 * Runs `fn` repeatedly: a few warm-up calls, then up to `iterations` timed calls or until
 * `budgetMs` is spent, whichever comes first. A call slower than `slowMs` is taken as the only
 * sample: a peer that needs a minute for one answer is reported from that answer, not repeated.
 */
export async function measure(
  fn: (i: number) => Promise<unknown>,
  options: {
    iterations: number;
    warmup?: number;
    budgetMs?: number;
    slowMs?: number;
    minSamples?: number;
  },
): Promise<Summary> {
  const slowMs = options.slowMs ?? 2_000;
  const warmup = options.warmup ?? Math.min(5, options.iterations);
  if (warmup === 0 && options.iterations === 0) return summarise([]);
  for (let i = 0; i < warmup; i++) {
    const t0 = performance.now();
    await fn(i);
    const took = performance.now() - t0;
    if (took > slowMs) return summarise([took]);
  }
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < options.iterations; i++) {
    const t0 = performance.now();
    await fn(i);
    samples.push(performance.now() - t0);
    const spent = performance.now() - started;
    if (samples[samples.length - 1]! > slowMs) break;
    if (
      options.budgetMs !== undefined &&
      spent > options.budgetMs &&
      samples.length >= (options.minSamples ?? 3)
    )
      break;
  }
  return summarise(samples);
}

/** Samples the process's resident memory while work runs, and gives the peak. */
/** Peak resident memory of a process (this one by default), in megabytes: Linux's VmHWM. */
export function peakRssMb(pid: number | 'self' = 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return (kb * 1024) / 1e6;
}

export class MemoryWatch {
  #peak = 0;
  #timer: NodeJS.Timeout | undefined;

  start(): this {
    (globalThis as { gc?: () => void }).gc?.();
    this.#peak = process.memoryUsage().rss;
    this.#timer = setInterval(() => {
      this.#peak = Math.max(this.#peak, process.memoryUsage().rss);
    }, 20);
    this.#timer.unref();
    return this;
  }

  /** Peak resident memory in megabytes since start. */
  stop(): number {
    if (this.#timer) clearInterval(this.#timer);
    this.#peak = Math.max(this.#peak, process.memoryUsage().rss);
    return this.#peak / 1e6;
  }
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 100) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(0)} ms`;
}
