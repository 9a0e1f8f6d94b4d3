import { ChangeDetectionStrategy, Component, effect, inject, signal } from '@angular/core';
import { Router, RouterLink, RouterOutlet } from '@angular/router';
import { LatchkeyAuth } from '@latchkey/angular';

/** Pages only signed-in users may see: leave them when the session ends (here or in another tab). */
const PROTECTED_PATHS = ['/status', '/sessions'];

@Component({
  selector: 'app-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterLink, RouterOutlet],
  template: `
    <header class="topbar">
      <a class="brand" routerLink="/">Latchkey</a>
      <!-- The header keeps its height in every state (styles.css: .topbar nav), so nothing
           below it jumps when the start-up check settles. -->
      <nav aria-label="Account">
        @if (auth.user(); as user) {
          <span class="who" data-testid="signed-in-email">{{ user.email }}</span>
          <a routerLink="/sessions">Sessions</a>
          <a routerLink="/account">Account</a>
          @if (user.admin) {
            <a routerLink="/admin">Admin</a>
          }
          <button type="button" (click)="logOut()" [disabled]="loggingOut()">Log out</button>
        } @else if (auth.status() === 'unknown') {
          <span class="who" role="status" data-testid="auth-pending">Checking your session…</span>
        } @else if (auth.status() === 'unavailable') {
          <span class="who" role="status" data-testid="auth-unavailable">
            Can’t reach the server; your session is kept. Retrying…
          </span>
        }
      </nav>
    </header>
    @if (logoutError(); as message) {
      <p class="error notice" role="alert">{{ message }}</p>
    }
    <main>
      <router-outlet />
    </main>
  `,
})
export class AppShell {
  protected readonly auth = inject(LatchkeyAuth);
  readonly #router = inject(Router);
  protected readonly loggingOut = signal(false);
  protected readonly logoutError = signal<string | null>(null);

  constructor() {
    effect(() => {
      if (this.auth.status() !== 'signed-out') return;
      const path = this.#router.url.split('?')[0] ?? '';
      if (PROTECTED_PATHS.some((p) => path === p || path.startsWith(`${p}/`))) {
        void this.#router.navigateByUrl('/login');
      }
    });
  }

  protected async logOut(): Promise<void> {
    this.loggingOut.set(true);
    this.logoutError.set(null);
    const result = await this.auth.logout();
    this.loggingOut.set(false);
    // A logout the server did not confirm leaves the session alive: say so, stay on the page.
    if (!result.ok) {
      this.logoutError.set(result.message);
      return;
    }
    await this.#router.navigateByUrl('/login');
  }
}
