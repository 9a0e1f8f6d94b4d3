import { Component, inject, signal } from '@angular/core';
import { Router, RouterLink, RouterOutlet } from '@angular/router';
import { LatchkeyAuth } from '@latchkey/angular';

@Component({
  selector: 'app-root',
  imports: [RouterLink, RouterOutlet],
  template: `
    <header>
      <a routerLink="/">Example</a>
      @switch (auth.status()) {
        @case ('unknown') {
          <span role="status">Checking your session…</span>
        }
        @case ('unavailable') {
          <span role="status">The server can't be reached; retrying…</span>
        }
        @case ('signed-in') {
          <span data-testid="email">{{ auth.user()?.email }}</span>
          <a routerLink="/account">Account</a>
          <button type="button" (click)="logOut()">Log out</button>
        }
        @case ('signed-out') {
          <a routerLink="/login">Log in</a>
        }
      }
    </header>
    @if (error(); as message) {
      <p role="alert">{{ message }}</p>
    }
    <main><router-outlet /></main>
  `,
})
export class App {
  protected readonly auth = inject(LatchkeyAuth);
  protected readonly error = signal('');
  readonly #router = inject(Router);

  protected async logOut(): Promise<void> {
    const result = await this.auth.logout();
    if (!result.ok) return this.error.set(result.message);
    this.error.set('');
    await this.#router.navigateByUrl('/login');
  }
}
