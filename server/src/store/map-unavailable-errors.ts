import { AuthError } from '../errors.ts';
import type { Store } from './store.ts';

export interface UnavailableRules {
  /** True for the engine's errors that mean "the database cannot answer now". */
  isUnavailable: (error: unknown) => boolean;
  /**
   * Longest any call may take, waiting for a connection included; past it the call is reported
   * unavailable and its outcome ignored. Undefined where a timer could not fire anyway
   * (node:sqlite waits for locks synchronously, bounded by its busy timeout).
   */
  deadlineMs?: number;
}

/** Rejects with `service_unavailable` when `call` has not settled within `ms`; the call itself is left to finish or fail. */
function withDeadline<T>(call: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const cause = new Error(`the database did not answer within ${ms} ms`);
      reject(new AuthError('service_unavailable', { cause }));
    }, ms);
    timer.unref();
    call.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // The driver's rejection passes through unchanged: mapUnavailableErrors classifies it.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(error);
      },
    );
  });
}

/**
 * Wraps every Store method so that "the database cannot answer now" (a refused or lost
 * connection, a timeout, a busy database, no answer within the deadline) becomes AuthError
 * `service_unavailable`, which the HTTP error handler answers with 503 and Retry-After. This is
 * the one place that mapping happens. Any other error (a bug, a broken constraint) passes
 * unchanged and stays a 500. `close` is left as it is: shutting down is not a request.
 */
export function mapUnavailableErrors(store: Store, rules: UnavailableRules): Store {
  const guarded: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(store) as [string, (...a: unknown[]) => unknown][]) {
    if (name === 'close') {
      guarded[name] = method;
      continue;
    }
    guarded[name] = async (...args: unknown[]) => {
      try {
        const call = Promise.resolve(method(...args));
        return await (rules.deadlineMs === undefined ? call : withDeadline(call, rules.deadlineMs));
      } catch (error) {
        if (error instanceof AuthError) throw error;
        if (rules.isUnavailable(error))
          throw new AuthError('service_unavailable', { cause: error });
        throw error;
      }
    };
  }
  return guarded as unknown as Store;
}
