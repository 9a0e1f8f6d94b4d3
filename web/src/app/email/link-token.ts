import { Location } from '@angular/common';
import { inject } from '@angular/core';
import { ActivatedRoute } from '@angular/router';

/**
 * The token of a mailed link (`…#token=T`), read once when the page opens. It travels in the
 * fragment so that no server log or `Referer` ever sees it; the page then takes it out of the
 * address bar (and so out of the history and of bookmarks). Opening the page spends nothing:
 * only the button's POST does, so a mail scanner that loads the link changes nothing.
 * Call it in an injection context (a field initialiser).
 */
export function readLinkToken(): string | null {
  const fragment = inject(ActivatedRoute).snapshot.fragment ?? '';
  const token = new URLSearchParams(fragment).get('token');
  if (token !== null) {
    const location = inject(Location);
    location.replaceState(location.path(false));
  }
  return token === '' ? null : token;
}
