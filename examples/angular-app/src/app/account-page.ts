import { Component, inject } from '@angular/core';
import { LatchkeyAuth } from '@latchkey/angular';

@Component({
  selector: 'app-account-page',
  template: `
    <h1>Your account</h1>
    @if (auth.user(); as user) {
      <p>
        Signed in as <strong data-testid="account-email">{{ user.email }}</strong>.
      </p>
    }
  `,
})
export class AccountPage {
  protected readonly auth = inject(LatchkeyAuth);
}
