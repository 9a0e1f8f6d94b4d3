/**
 * Checks on what a page exposes: token-like values in script-readable storage, headings and the
 * accessible names of inputs.
 */
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';

const JWT = /eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/;

/**
 * Starts collecting every access token pages of `context` send as `Authorization: Bearer`.
 * (Reading the token responses' bodies instead is unreliable: Chromium does not always keep the
 * body of a fetch the page has streamed.)
 */
export function recordAccessTokens(context: BrowserContext): string[] {
  const tokens: string[] = [];
  const watch = (page: Page) =>
    page.on('request', (request) => {
      const token = /^Bearer (.+)$/.exec(request.headers()['authorization'] ?? '')?.[1];
      if (token !== undefined && !tokens.includes(token)) tokens.push(token);
    });
  context.pages().forEach(watch);
  context.on('page', watch);
  return tokens;
}

/**
 * Fails when localStorage, sessionStorage or document.cookie hold anything token-like: a JWT,
 * one of `accessTokens`, or the refresh cookie's value. document.cookie must be empty, and the
 * refresh cookie must exist and be HttpOnly.
 */
export async function assertNothingTokenLikeReadable(
  page: Page,
  accessTokens: readonly string[],
  when: string,
): Promise<void> {
  assert.ok(accessTokens.length > 0, `${when}: the page sent an access token`);
  const cookies = await page.context().cookies();
  const refresh = cookies.find((cookie) => cookie.name === 'latchkey_refresh');
  assert.ok(refresh !== undefined, `${when}: the refresh cookie is set`);
  assert.equal(refresh.httpOnly, true, `${when}: the refresh cookie is HttpOnly`);

  const readable = await page.evaluate(() => {
    const entries = (storage: Storage) =>
      Array.from({ length: storage.length }, (_, i) => {
        const key = storage.key(i) ?? '';
        return `${key}=${storage.getItem(key) ?? ''}`;
      });
    return {
      cookie: document.cookie,
      stored: [...entries(localStorage), ...entries(sessionStorage)],
    };
  });
  assert.equal(readable.cookie, '', `${when}: document.cookie is empty`);
  for (const entry of readable.stored) {
    assert.doesNotMatch(entry, JWT, `${when}: storage holds a JWT`);
    assert.ok(!entry.includes(refresh.value), `${when}: storage holds the refresh token`);
    for (const token of accessTokens) {
      assert.ok(!entry.includes(token), `${when}: storage holds an access token`);
    }
  }
}

/** Fails unless the page has exactly one h1 and every input has an accessible name. */
export async function assertHeadingAndLabels(page: Page, what: string): Promise<void> {
  assert.equal(await page.locator('h1').count(), 1, `${what}: exactly one h1`);
  const unnamed = await page.evaluate(() =>
    Array.from(document.querySelectorAll('input, select, textarea'))
      .filter((element) => {
        const field = element as HTMLInputElement;
        if (field.type === 'hidden') return false;
        const byLabel = Array.from(field.labels ?? []).some((l) => l.textContent?.trim());
        const byAria = field.getAttribute('aria-label')?.trim();
        const byReference = (field.getAttribute('aria-labelledby') ?? '')
          .split(/\s+/)
          .some((id) => id !== '' && document.getElementById(id)?.textContent?.trim());
        return !byLabel && !byAria && !byReference;
      })
      .map((element) => element.outerHTML),
  );
  assert.deepEqual(unnamed, [], `${what}: every input has an accessible name`);
}
