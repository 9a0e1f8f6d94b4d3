/**
 * An in-memory browser for unit tests: tabs that share Web Locks and BroadcastChannels the way
 * the tabs of one real browser do. The library reads these APIs from `document.defaultView`, so a
 * test provides a tab's `document` as `DOCUMENT` instead of patching globals (style rule 7).
 */
import type { CrossTabGlobals } from '../cross-tab';

/** What a fake tab's `window` offers: the APIs cross-tab.ts uses, when the tab has them. */
export interface FakeWindow extends CrossTabGlobals {
  navigator: { locks?: LockManager };
}

export interface FakeTab {
  window: FakeWindow;
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
      const window: FakeWindow = {
        navigator: hasLocks ? { locks } : {},
        ...(broadcastChannel ? { BroadcastChannel: Channel } : {}),
      };
      const document = { defaultView: window, baseURI: `${origin}/`, cookie: '' };
      return { window, document: document as unknown as Document };
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
