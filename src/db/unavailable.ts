/**
 * The database gave up waiting (a statement, lock or connection timed out, or SQLite stayed
 * busy): the request may succeed if tried again, so it is answered 503, not 500.
 */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

// query_canceled (statement_timeout), lock_not_available (lock_timeout),
// idle_in_transaction_session_timeout, too_many_connections, cannot_connect_now.
const PG_UNAVAILABLE = new Set(['57014', '55P03', '25P03', '53300', '57P03']);

/** Whether an error means "the database is busy, try again" rather than a fault in Haven. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return PG_UNAVAILABLE.has(code) || code.startsWith('SQLITE_BUSY');
}
