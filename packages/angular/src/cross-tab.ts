/**
 * Coordination between the tabs of one browser, with fallbacks where the APIs are missing:
 * one refresh at a time (Web Locks), and sign-in/sign-out news (BroadcastChannel). Browser
 * globals are only touched when a function here is called, never at import time, so the library
 * is safe to import during server-side rendering.
 */

export type CrossTabMessage = { type: 'signed-in' } | { type: 'signed-out' };

export interface CrossTab {
  /** Runs `task` while holding the refresh lock of this origin (or at once without Web Locks). */
  withRefreshLock<T>(task: () => Promise<T>): Promise<T>;
  post(message: CrossTabMessage): void;
  /** Calls `listener` for messages from other tabs; returns a function that stops listening. */
  listen(listener: (message: CrossTabMessage) => void): () => void;
}

const LOCK_NAME = 'latchkey-refresh';
const CHANNEL_NAME = 'latchkey';

/** The browser globals this module uses; absent on a server. */
export interface CrossTabGlobals {
  navigator?: { locks?: LockManager };
  BroadcastChannel?: typeof BroadcastChannel;
}

/** The cross-tab helpers over the given global object (a browser `window`, or nothing on a server). */
export function createCrossTab(global: CrossTabGlobals | undefined): CrossTab {
  const locks = global?.navigator?.locks;
  const Channel = global?.BroadcastChannel;
  let channel: BroadcastChannel | undefined;
  const open = () => (channel ??= Channel === undefined ? undefined : new Channel(CHANNEL_NAME));

  return {
    withRefreshLock(task) {
      // Without Web Locks, tabs may refresh at the same moment; the server's reuse grace window
      // (REFRESH_REUSE_GRACE) lets such concurrent refreshes all succeed.
      if (locks === undefined) return task();
      return locks.request(LOCK_NAME, { mode: 'exclusive' }, task) as Promise<
        Awaited<ReturnType<typeof task>>
      >;
    },
    post(message) {
      open()?.postMessage(message);
    },
    listen(listener) {
      const target = open();
      if (target === undefined) return () => undefined;
      const onMessage = (event: MessageEvent<unknown>) => {
        const data = event.data as Partial<CrossTabMessage> | null;
        if (data?.type === 'signed-in' || data?.type === 'signed-out')
          listener({ type: data.type });
      };
      target.addEventListener('message', onMessage);
      return () => {
        target.removeEventListener('message', onMessage);
        target.close();
        channel = undefined;
      };
    },
  };
}
