import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, type OnInit, inject, signal } from '@angular/core';
import { type AuditEventData, LatchkeyAdmin } from '@latchkey/angular';
import { describeEvent } from '../shared/describe-event';

/** The signed-in user's recent security events (`GET /auth/events`), newest first. */
@Component({
  selector: 'app-security-activity',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [DatePipe],
  template: `
    @if (error(); as message) {
      <p class="alert" role="alert">{{ message }}</p>
    }
    <ul class="events" aria-label="Security activity">
      @for (event of events(); track event.id) {
        <li class="card event">
          <p class="device">{{ describe(event) }}</p>
          <p class="meta">
            <time [attr.datetime]="event.created_at">{{ event.created_at | date: 'medium' }}</time>
            @if (event.ip) {
              · {{ event.ip }}
            }
          </p>
        </li>
      } @empty {
        <li class="aside">Nothing yet.</li>
      }
    </ul>
    @if (next()) {
      <button type="button" [disabled]="loading()" (click)="load()">Show older activity</button>
    }
  `,
})
export class SecurityActivity implements OnInit {
  readonly #admin = inject(LatchkeyAdmin);
  protected readonly events = signal<AuditEventData[]>([]);
  protected readonly next = signal<string | null>(null);
  protected readonly loading = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly describe = describeEvent;

  ngOnInit(): void {
    void this.load();
  }

  protected async load(): Promise<void> {
    this.loading.set(true);
    const page = await this.#admin.myEvents(10, this.next());
    this.loading.set(false);
    if (!page.ok) {
      this.error.set(page.message);
      return;
    }
    this.events.update((events) => [...events, ...page.value.items]);
    this.next.set(page.value.nextCursor);
  }
}
