import { type CrossTabMessage, createCrossTab } from './cross-tab';
import { createFakeBrowser, settle } from './testing/fake-browser';

/** A promise the test resolves when it chooses, to hold a task inside the lock. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('createCrossTab', () => {
  describe('withRefreshLock', () => {
    it('runs tasks one at a time, in the order they asked', async () => {
      const browser = createFakeBrowser();
      const first = createCrossTab(browser.openTab().window);
      const second = createCrossTab(browser.openTab().window);
      const log: string[] = [];
      const gates = { a: gate(), b: gate(), c: gate() };
      const task = (name: keyof typeof gates) => async () => {
        log.push(`${name} start`);
        await gates[name].opened;
        log.push(`${name} end`);
        return name;
      };

      const results = Promise.all([
        first.withRefreshLock(task('a')),
        second.withRefreshLock(task('b')),
        first.withRefreshLock(task('c')),
      ]);
      await settle();
      expect(log).toEqual(['a start']);

      gates.b.open();
      gates.c.open();
      await settle();
      expect(log).toEqual(['a start']);

      gates.a.open();
      expect(await results).toEqual(['a', 'b', 'c']);
      expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    });

    it('runs the task at once without Web Locks', async () => {
      const crossTab = createCrossTab(createFakeBrowser().openTab({ locks: false }).window);
      const task = vi.fn(() => Promise.resolve(42));

      const result = crossTab.withRefreshLock(task);

      expect(task).toHaveBeenCalledTimes(1);
      expect(await result).toBe(42);
    });
  });

  describe('post and listen', () => {
    it('deliver signed-in and signed-out messages to the other tabs', async () => {
      const browser = createFakeBrowser();
      const sender = createCrossTab(browser.openTab().window);
      const receiver = createCrossTab(browser.openTab().window);
      const received: CrossTabMessage[] = [];
      const sent: CrossTabMessage[] = [];
      receiver.listen((message) => received.push(message));
      sender.listen((message) => sent.push(message));

      sender.post({ type: 'signed-in' });
      sender.post({ type: 'signed-out' });
      await settle();

      expect(received).toEqual([{ type: 'signed-in' }, { type: 'signed-out' }]);
      expect(sent).toEqual([]);
    });

    it('stop delivering once the listener is removed', async () => {
      const browser = createFakeBrowser();
      const sender = createCrossTab(browser.openTab().window);
      const receiver = createCrossTab(browser.openTab().window);
      const listener = vi.fn();
      const stop = receiver.listen(listener);

      stop();
      sender.post({ type: 'signed-out' });
      await settle();

      expect(listener).not.toHaveBeenCalled();
    });

    it('ignore malformed messages on the channel', async () => {
      const browser = createFakeBrowser();
      const tab = browser.openTab();
      const receiver = createCrossTab(browser.openTab().window);
      const listener = vi.fn();
      receiver.listen(listener);
      const stranger = new (tab.window.BroadcastChannel as typeof BroadcastChannel)('latchkey');

      for (const data of [
        null,
        'signed-out',
        42,
        {},
        { type: 'signed-off' },
        { kind: 'signed-in' },
      ]) {
        stranger.postMessage(data);
      }
      stranger.postMessage({ type: 'signed-out', token: 'leaked?' });
      await settle();

      expect(listener).toHaveBeenCalledTimes(1);
      expect(listener).toHaveBeenCalledWith({ type: 'signed-out' });
    });

    it('do nothing without BroadcastChannel', () => {
      const crossTab = createCrossTab(
        createFakeBrowser().openTab({ broadcastChannel: false }).window,
      );

      expect(() => crossTab.post({ type: 'signed-out' })).not.toThrow();
      const stop = crossTab.listen(() => undefined);
      expect(() => stop()).not.toThrow();
    });
  });

  describe('on a server (no global object)', () => {
    it('runs the refresh task, and posting or listening throws nothing', async () => {
      const crossTab = createCrossTab(undefined);

      expect(await crossTab.withRefreshLock(() => Promise.resolve('done'))).toBe('done');
      expect(() => crossTab.post({ type: 'signed-in' })).not.toThrow();
      const stop = crossTab.listen(() => undefined);
      expect(() => stop()).not.toThrow();
    });

    it('copes with a global object that has neither API', async () => {
      const crossTab = createCrossTab({});

      expect(await crossTab.withRefreshLock(() => Promise.resolve('done'))).toBe('done');
      expect(() => crossTab.post({ type: 'signed-in' })).not.toThrow();
      expect(() => crossTab.listen(() => undefined)()).not.toThrow();
    });
  });
});
