/** The current instant as an ISO 8601 UTC string with millisecond precision; Haven stores times this way. */
export function nowIso(): string {
  return new Date().toISOString();
}

export function addMs(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

/** The later of two ISO times (they compare as strings). */
export function laterOf(a: string, b: string): string {
  return a.localeCompare(b) >= 0 ? a : b;
}

/** Rejects when `work` has not settled within `ms`; a late failure of `work` is not left unhandled. */
export async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => {});
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
