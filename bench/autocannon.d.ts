/**
 * The part of autocannon's API the benchmarks use (autocannon ships no type declarations).
 * See node_modules/autocannon/README.md, "API".
 */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface RequestParams {
      method?: 'GET' | 'POST';
      path?: string;
      headers?: Record<string, string>;
      body?: string;
    }

    /** Per-connection state; autocannon resets it whenever a connection's sequence wraps. */
    type Context = Record<string, unknown>;

    interface Request extends RequestParams {
      /** Returns the request to send; a falsy value restarts the sequence. */
      setupRequest?: (request: RequestParams, context: Context) => RequestParams | undefined;
      onResponse?: (
        status: number,
        body: string,
        context: Context,
        headers: Record<string, string | string[]>,
      ) => void;
    }

    interface Options {
      url: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      /** Requests to send in all, after which it stops (overrides duration). */
      amount?: number;
      /** Seconds to wait for a response. */
      timeout?: number;
      requests?: Request[];
    }

    interface Result {
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      '2xx': number;
      statusCodeStats: Record<string, { count: number }>;
    }

    interface Instance extends EventEmitter {
      stop(): void;
    }
  }

  function autocannon(
    options: autocannon.Options,
    callback: (error: Error | null, result: autocannon.Result) => void,
  ): autocannon.Instance;

  export = autocannon;
}
