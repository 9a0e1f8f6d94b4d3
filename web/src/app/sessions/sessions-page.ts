import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { LatchkeyAuth, type SessionData } from '@latchkey/angular';
import { describeDevice } from './describe-device';

@Component({
  selector: 'app-sessions-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [DatePipe],
  template: `
    <section class="narrow">
      <h1>Sessions</h1>
      <p class="lead">Everywhere you are signed in. Sign out anything you don’t recognise.</p>
      @if (error(); as message) {
        <p class="alert" role="alert">{{ message }}</p>
      }
      @if (sessions(); as list) {
        <ul class="sessions" aria-label="Your sessions">
          @for (session of list; track session.id) {
            <li class="card session">
              <div>
                <p class="device">
                  {{ device(session) }}
                  @if (session.current) {
                    <span class="badge">This device</span>
                  }
                </p>
                <p class="meta">
                  IP {{ session.ip ?? 'unknown' }} · last used
                  <time [attr.datetime]="session.last_used_at">{{
                    session.last_used_at | date: 'medium'
                  }}</time>
                </p>
              </div>
              @if (!session.current) {
                <!-- The name starts with the visible label (WCAG 2.5.3) and says which device. -->
                <button type="button" [disabled]="busy()" (click)="endSession(session)">
                  Sign out<span class="visually-hidden">
                    {{ device(session) }}, IP {{ session.ip ?? 'unknown' }}</span
                  >
                </button>
              }
            </li>
          }
        </ul>
        @if (hasOthers()) {
          <button type="button" class="danger" [disabled]="busy()" (click)="endOthers()">
            Sign out other sessions
          </button>
        }
      } @else if (!error()) {
        <p aria-live="polite">Loading your sessions…</p>
      }
    </section>
  `,
})
export class SessionsPage {
  readonly #auth = inject(LatchkeyAuth);
  protected readonly sessions = signal<SessionData[] | null>(null);
  protected readonly error = signal<string | null>(null);
  protected readonly busy = signal(false);
  protected readonly hasOthers = computed(() => (this.sessions() ?? []).some((s) => !s.current));
  protected readonly device = (session: SessionData): string => describeDevice(session.user_agent);

  constructor() {
    void this.load();
  }

  protected async endSession(session: SessionData): Promise<void> {
    await this.act(
      () => this.#auth.endSession(session.id),
      (s) => s.id !== session.id,
    );
  }

  protected async endOthers(): Promise<void> {
    await this.act(
      () => this.#auth.endOtherSessions(),
      (s) => s.current,
    );
  }

  private async load(): Promise<void> {
    const result = await this.#auth.sessions();
    if (result.ok) this.sessions.set(result.value);
    else this.error.set(result.message);
  }

  /** Runs an action at once and, when it worked, keeps only the sessions `keep` accepts. */
  private async act(
    action: () => ReturnType<LatchkeyAuth['endOtherSessions']>,
    keep: (session: SessionData) => boolean,
  ): Promise<void> {
    this.busy.set(true);
    this.error.set(null);
    const result = await action();
    this.busy.set(false);
    if (!result.ok) {
      this.error.set(result.message);
      return;
    }
    this.sessions.update((list) => (list ?? []).filter(keep));
  }
}
