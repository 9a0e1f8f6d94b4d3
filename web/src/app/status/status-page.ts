import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { LatchkeyAuth } from '@latchkey/angular';

@Component({
  selector: 'app-status-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [DatePipe],
  template: `
    <section class="narrow">
      <h1>Your account</h1>
      @if (auth.user(); as user) {
        <dl class="card details">
          <div>
            <dt>Email</dt>
            <dd data-testid="email">{{ user.email }}</dd>
          </div>
          <div>
            <dt>Registered</dt>
            <dd data-testid="registered-on">
              <time [attr.datetime]="user.registered_on">{{
                user.registered_on | date: 'longDate'
              }}</time>
            </dd>
          </div>
          <div>
            <dt>Administrator</dt>
            <dd data-testid="admin">{{ user.admin ? 'Yes' : 'No' }}</dd>
          </div>
        </dl>
      }
    </section>
  `,
})
export class StatusPage {
  protected readonly auth = inject(LatchkeyAuth);
}
