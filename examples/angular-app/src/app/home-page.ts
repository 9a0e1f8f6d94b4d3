import { Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';
import { LatchkeyAuth } from '@latchkey/angular';

@Component({
  selector: 'app-home-page',
  imports: [RouterLink],
  template: `
    <h1>Example app</h1>
    @if (auth.isSignedIn()) {
      <p>Welcome back. Your <a routerLink="/account">account page</a> is open to you.</p>
    } @else {
      <p>Your <a routerLink="/account">account page</a> needs a signed-in user.</p>
    }
  `,
})
export class HomePage {
  protected readonly auth = inject(LatchkeyAuth);
}
