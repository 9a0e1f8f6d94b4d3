import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, type OnInit, inject, signal } from '@angular/core';
import {
  type AdminUser,
  type AuditEventData,
  LatchkeyAdmin,
  LatchkeyAuth,
} from '@latchkey/angular';
import { EVENT_TYPES, describeEvent } from '../shared/describe-event';

const PAGE_SIZE = 20;

/**
 * `/admin`: the accounts with search and paging, and for each Disable/Enable, Sign out
 * everywhere and Delete (which asks to confirm); then the audit log with filters. Every button's
 * accessible name names the account, and results are announced (`role="status"`).
 */
@Component({
  selector: 'app-admin-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [DatePipe],
  template: `
    <section class="wide">
      <h1>Admin</h1>
      @if (error(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
      <p class="visually-hidden" role="status">{{ notice() }}</p>
      @if (notice()) {
        <p class="notice-box" aria-hidden="true">{{ notice() }}</p>
      }

      <h2>Accounts</h2>
      <form class="search" role="search" (submit)="$event.preventDefault(); search()">
        <label for="search">Search</label>
        <input
          id="search"
          type="search"
          [value]="query()"
          (input)="query.set($any($event.target).value)"
        />
        <button type="submit">Search</button>
      </form>
      <ul class="sessions" aria-label="Accounts">
        @for (user of users(); track user.user_id) {
          <li class="card session">
            <div>
              <p class="device">
                {{ user.email }}
                @if (user.admin) {
                  <span class="badge">Admin</span>
                }
                @if (user.disabled) {
                  <span class="badge warning">Disabled</span>
                }
              </p>
              <p class="meta">
                Registered {{ user.registered_on | date: 'mediumDate' }} ·
                {{ user.email_verified ? 'verified' : 'not verified' }} · last sign-in
                {{ user.last_login_at ? (user.last_login_at | date: 'medium') : 'never' }}
              </p>
            </div>
            @if (user.user_id !== selfId()) {
              <div class="actions">
                @if (user.disabled) {
                  <button type="button" [disabled]="busy()" (click)="act(user, 'enable')">
                    Enable<span class="visually-hidden"> {{ user.email }}</span>
                  </button>
                } @else {
                  <button type="button" [disabled]="busy()" (click)="act(user, 'disable')">
                    Disable<span class="visually-hidden"> {{ user.email }}</span>
                  </button>
                }
                <button type="button" [disabled]="busy()" (click)="act(user, 'sign-out')">
                  Sign out everywhere<span class="visually-hidden"> {{ user.email }}</span>
                </button>
                @if (confirming() === user.user_id) {
                  <span role="group" [attr.aria-label]="'Delete ' + user.email + '?'">
                    <span>Delete {{ user.email }}? This cannot be undone.</span>
                    <button
                      type="button"
                      class="danger"
                      [disabled]="busy()"
                      (click)="act(user, 'delete')"
                    >
                      Confirm delete
                    </button>
                    <button type="button" (click)="confirming.set(null)">Cancel</button>
                  </span>
                } @else {
                  <button type="button" class="danger" (click)="confirming.set(user.user_id)">
                    Delete<span class="visually-hidden"> {{ user.email }}</span>
                  </button>
                }
              </div>
            } @else {
              <span class="badge">You</span>
            }
          </li>
        } @empty {
          <li class="aside">No accounts match.</li>
        }
      </ul>
      <div class="actions">
        <button type="button" [disabled]="cursors().length === 0" (click)="previous()">
          Previous page
        </button>
        <button type="button" [disabled]="next() === null" (click)="more()">Next page</button>
      </div>

      <h2>Audit log</h2>
      <form class="search" (submit)="$event.preventDefault(); loadEvents()">
        <label for="event-type">Event type</label>
        <select
          id="event-type"
          [value]="eventType()"
          (change)="eventType.set($any($event.target).value)"
        >
          <option value="">Any</option>
          @for (type of eventTypes; track type) {
            <option [value]="type">{{ type }}</option>
          }
        </select>
        <label for="event-user">User id</label>
        <input
          id="event-user"
          [value]="eventUser()"
          (input)="eventUser.set($any($event.target).value)"
        />
        <button type="submit">Filter</button>
      </form>
      <ul class="events" aria-label="Audit log">
        @for (event of events(); track event.id) {
          <li class="card event">
            <p class="device">{{ describe(event) }}</p>
            <p class="meta">
              <time [attr.datetime]="event.created_at">{{
                event.created_at | date: 'medium'
              }}</time>
              · user {{ event.user_id ?? 'none' }}
              @if (event.actor_id) {
                · by {{ event.actor_id }}
              }
              @if (event.ip) {
                · {{ event.ip }}
              }
            </p>
          </li>
        } @empty {
          <li class="aside">No events match.</li>
        }
      </ul>
      @if (eventsNext()) {
        <button type="button" (click)="loadEvents(true)">Show older events</button>
      }
    </section>
  `,
})
export class AdminPage implements OnInit {
  readonly #admin = inject(LatchkeyAdmin);
  readonly #auth = inject(LatchkeyAuth);
  protected readonly selfId = (): string | undefined => this.#auth.user()?.user_id;
  protected readonly users = signal<AdminUser[]>([]);
  protected readonly query = signal('');
  /** Cursors of the pages before this one (the first page's is null). */
  protected readonly cursors = signal<(string | null)[]>([]);
  protected readonly current = signal<string | null>(null);
  protected readonly next = signal<string | null>(null);
  protected readonly busy = signal(false);
  protected readonly confirming = signal<string | null>(null);
  protected readonly error = signal<string | null>(null);
  protected readonly notice = signal('');
  protected readonly events = signal<AuditEventData[]>([]);
  protected readonly eventsNext = signal<string | null>(null);
  protected readonly eventType = signal('');
  protected readonly eventUser = signal('');
  protected readonly eventTypes = EVENT_TYPES;
  protected readonly describe = describeEvent;

  ngOnInit(): void {
    void this.loadUsers(null);
    void this.loadEvents();
  }

  protected search(): void {
    this.cursors.set([]);
    void this.loadUsers(null);
  }

  protected more(): void {
    this.cursors.update((c) => [...c, this.current()]);
    void this.loadUsers(this.next());
  }

  protected previous(): void {
    const before = this.cursors();
    this.cursors.set(before.slice(0, -1));
    void this.loadUsers(before.at(-1) ?? null);
  }

  protected async act(
    user: AdminUser,
    action: 'disable' | 'enable' | 'sign-out' | 'delete',
  ): Promise<void> {
    this.busy.set(true);
    this.error.set(null);
    const result =
      action === 'disable'
        ? await this.#admin.disable(user.user_id)
        : action === 'enable'
          ? await this.#admin.enable(user.user_id)
          : action === 'delete'
            ? await this.#admin.delete(user.user_id)
            : await this.#admin.endSessions(user.user_id);
    this.busy.set(false);
    this.confirming.set(null);
    if (!result.ok) {
      this.error.set(result.message);
      return;
    }
    this.notice.set(
      action === 'sign-out'
        ? `${user.email}: signed out of ${String(result.value)} session(s).`
        : `${user.email}: ${String(result.value)}`,
    );
    await this.loadUsers(this.current());
    await this.loadEvents();
  }

  protected async loadEvents(older = false): Promise<void> {
    const page = await this.#admin.events({
      limit: PAGE_SIZE,
      ...(this.eventType() === '' ? {} : { type: this.eventType() }),
      ...(this.eventUser().trim() === '' ? {} : { userId: this.eventUser().trim() }),
      cursor: older ? this.eventsNext() : null,
    });
    if (!page.ok) {
      this.error.set(page.message);
      return;
    }
    this.events.update((events) => (older ? [...events, ...page.value.items] : page.value.items));
    this.eventsNext.set(page.value.nextCursor);
  }

  async loadUsers(cursor: string | null): Promise<void> {
    const page = await this.#admin.users({ query: this.query(), limit: PAGE_SIZE, cursor });
    if (!page.ok) {
      this.error.set(page.message);
      return;
    }
    this.current.set(cursor);
    this.users.set(page.value.items);
    this.next.set(page.value.nextCursor);
  }
}
