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
      <nav aria-label="Account">
        @if (auth.user(); as user) {
          <span class="who" data-testid="signed-in-email">{{ user.email }}</span>
          <a routerLink="/sessions">Sessions</a>
          <button type="button" (click)="logOut()" [disabled]="loggingOut()">Log out</button>
        }
      </nav>
    </header>
    <main>
      <router-outlet />
    </main>
  `,
})
export class AppShell {
  protected readonly auth = inject(LatchkeyAuth);
  readonly #router = inject(Router);
  protected readonly loggingOut = signal(false);

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
    await this.auth.logout();
    this.loggingOut.set(false);
    await this.#router.navigateByUrl('/login');
  }
}
