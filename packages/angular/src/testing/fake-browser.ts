/**
 * An in-memory browser for unit tests: tabs that share Web Locks and BroadcastChannels the way
 * the tabs of one real browser do. The library reads these APIs from `document.defaultView`, so a
 * test provides a tab's `document` as `DOCUMENT` instead of patching globals (style rule 7).
 */
import type { CrossTabGlobals } from '../cross-tab';

/** What a fake tab's `window` offers: the APIs cross-tab.ts uses, when the tab has them. */
export interface FakeWindow extends CrossTabGlobals {
  navigator: { locks?: LockManager };
  setTimeout(callback: () => void, ms: number): number;
  clearTimeout(id: unknown): void;
}

/** A tab's timers, moved by the test instead of by the wall clock (style rule 7). */
export interface FakeClock {
  /** Delays of the timers still pending, in the order they were set. */
  pending(): number[];
  /** Runs every pending timer due within `ms` from now, in order, and moves the clock on. */
  advance(ms: number): void;
}

export interface FakeTab {
  window: FakeWindow;
  clock: FakeClock;
  /** Enough of a `Document` for the library and HttpClient: defaultView, baseURI, cookie. */
  document: Document;
}

export interface FakeBrowser {
  /** Opens a tab of `origin` (default `https://app.example`); by default it has both APIs. */
  openTab(options?: { origin?: string; locks?: boolean; broadcastChannel?: boolean }): FakeTab;
}

type Listener = (event: { data: unknown }) => void;

export function createFakeBrowser(): FakeBrowser {
  const locks = createLockManager();
  const Channel = createChannelClass();
  return {
    openTab({
      origin = 'https://app.example',
      locks: hasLocks = true,
      broadcastChannel = true,
    } = {}) {
      const clock = createClock();
      const window: FakeWindow = {
        navigator: hasLocks ? { locks } : {},
        ...(broadcastChannel ? { BroadcastChannel: Channel } : {}),
        setTimeout: clock.setTimeout,
        clearTimeout: clock.clearTimeout,
      };
      const document = { defaultView: window, baseURI: `${origin}/`, cookie: '' };
      return { window, clock, document: document as unknown as Document };
    },
  };
}

function createClock(): FakeClock & Pick<FakeWindow, 'setTimeout' | 'clearTimeout'> {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; delay: number; callback: () => void }>();
  return {
    setTimeout(callback, ms) {
      const id = nextId++;
      timers.set(id, { at: now + ms, delay: ms, callback });
      return id;
    },
    clearTimeout(id) {
      timers.delete(id as number);
    },
    pending: () => [...timers.values()].map((timer) => timer.delay),
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers]
          .filter(([, t]) => t.at <= until)
          .sort(([, a], [, b]) => a.at - b.at);
        const first = due[0];
        if (first === undefined) break;
        timers.delete(first[0]);
        now = first[1].at;
        first[1].callback();
      }
      now = until;
    },
  };
}

/** Exclusive locks by name: a request waits for the previous holder's callback to settle. */
function createLockManager(): LockManager {
  const tails = new Map<string, Promise<unknown>>();
  const request = (name: string, ...rest: unknown[]): Promise<unknown> => {
    const callback = rest[rest.length - 1] as (lock: Lock) => unknown;
    const previous = tails.get(name) ?? Promise.resolve();
    const result = previous.then(() => callback({ name, mode: 'exclusive' } as Lock));
    tails.set(
      name,
      result.catch(() => undefined),
    );
    return result;
  };
  return { request } as unknown as LockManager;
}

/**
 * A BroadcastChannel class whose instances reach each other: a message goes, as a structured
 * clone and in a later task, to every other open channel of the same name, never to the sender.
 */
function createChannelClass(): typeof BroadcastChannel {
  const open = new Set<FakeBroadcastChannel>();

  class FakeBroadcastChannel {
    readonly #listeners = new Set<Listener>();

    constructor(readonly name: string) {
      open.add(this);
    }

    postMessage(message: unknown): void {
      if (!open.has(this)) throw new DOMException('The channel is closed.', 'InvalidStateError');
      const data = structuredClone(message);
      for (const other of open) {
        if (other === this || other.name !== this.name) continue;
        setTimeout(() => other.#listeners.forEach((listener) => listener({ data })));
      }
    }

    addEventListener(type: string, listener: Listener): void {
      if (type === 'message') this.#listeners.add(listener);
    }

    removeEventListener(type: string, listener: Listener): void {
      if (type === 'message') this.#listeners.delete(listener);
    }

    close(): void {
      open.delete(this);
    }
  }

  return FakeBroadcastChannel as unknown as typeof BroadcastChannel;
}

/** Lets pending timers and microtasks run (message delivery, deferred start-up, lock hand-over). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve));
}
