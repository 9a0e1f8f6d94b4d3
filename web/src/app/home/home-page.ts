import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';
import { LatchkeyAuth } from '@latchkey/angular';

@Component({
  selector: 'app-home-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterLink],
  template: `
    <section class="hero">
      <h1>Accounts that stay out of your way</h1>
      <p class="lead">
        Latchkey is a self-hosted authentication server and Angular library: accounts, sessions that
        survive a reload, and sign-out that takes effect everywhere at once.
      </p>
      @if (auth.isSignedIn()) {
        <p class="actions"><a class="button primary" routerLink="/status">Go to your account</a></p>
      } @else if (auth.isReady()) {
        <p class="actions">
          <a class="button primary" routerLink="/login">Log in</a>
          <a class="button" routerLink="/register">Register</a>
        </p>
      }
      <ul class="features">
        <li>
          <strong>Tokens in memory only.</strong> Nothing a script could steal is kept in storage.
        </li>
        <li><strong>Rotating refresh cookie.</strong> A stolen, reused cookie ends the session.</li>
        <li><strong>Every device in view.</strong> See your sessions and sign any of them out.</li>
      </ul>
    </section>
  `,
})
export class HomePage {
  protected readonly auth = inject(LatchkeyAuth);
}
