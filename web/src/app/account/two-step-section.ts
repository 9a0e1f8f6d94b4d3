import { ChangeDetectionStrategy, Component, type OnInit, inject, signal } from '@angular/core';
import { DomSanitizer, type SafeHtml } from '@angular/platform-browser';
import { LatchkeyAuth, type LatchkeyResult } from '@latchkey/angular';
import { type FormField, SimpleForm } from '../shared/simple-form';

const PASSWORD: FormField = {
  name: 'current_password',
  label: 'Current password',
  type: 'password',
  autocomplete: 'current-password',
};
const CODE: FormField = {
  name: 'code',
  label: 'Authentication code',
  type: 'text',
  autocomplete: 'one-time-code',
};

/**
 * Two-step sign-in on the account page: set up an authenticator app (QR code and key, then a
 * first code), the recovery codes shown once (copy, download), new codes, and turning it off.
 */
@Component({
  selector: 'app-two-step-section',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [SimpleForm],
  template: `
    @if (codes(); as list) {
      <div class="card">
        <p class="notice-box" role="status">
          Save these recovery codes now: each signs you in once if you lose your authenticator, and
          they are not shown again.
        </p>
        <ul class="codes" aria-label="Recovery codes">
          @for (code of list; track code) {
            <li>
              <code>{{ code }}</code>
            </li>
          }
        </ul>
        <div class="actions">
          <button type="button" (click)="copy(list)">Copy codes</button>
          <button type="button" (click)="download(list)">Download codes</button>
          <button type="button" class="primary" (click)="codes.set(null)">I have saved them</button>
        </div>
        @if (copied()) {
          <p class="hint" role="status">Copied.</p>
        }
      </div>
    } @else if (enrolment(); as setup) {
      <div class="card">
        <p>Scan this QR code with your authenticator app, then enter the code it shows.</p>
        <div
          class="qr"
          role="img"
          aria-label="QR code for your authenticator app"
          [innerHTML]="setup.qr"
        ></div>
        <p class="hint">
          Or type this key: <code data-testid="totp-secret">{{ setup.secret }}</code>
        </p>
      </div>
      <app-simple-form
        formId="totp-confirm"
        submitLabel="Turn on"
        [fields]="[code]"
        [action]="confirm"
      />
    } @else if (on() === true) {
      <p data-testid="two-step-state">
        Two-step sign-in is on. {{ left() }} recovery code{{ left() === 1 ? '' : 's' }} left.
      </p>
      <app-simple-form
        formId="recovery-new"
        submitLabel="New recovery codes"
        [fields]="[code]"
        [action]="regenerate"
      />
      <app-simple-form
        formId="totp-off"
        submitLabel="Turn off two-step sign-in"
        [fields]="[password, code]"
        [action]="turnOff"
      />
    } @else if (on() === false) {
      <p data-testid="two-step-state">
        Two-step sign-in is off. With it, a stolen password alone cannot sign in.
      </p>
      <app-simple-form
        formId="totp-start"
        submitLabel="Set up authenticator app"
        [fields]="[password]"
        [action]="start"
      />
    }
  `,
})
export class TwoStepSection implements OnInit {
  readonly #auth = inject(LatchkeyAuth);
  readonly #sanitizer = inject(DomSanitizer);
  protected readonly password = PASSWORD;
  protected readonly code = CODE;
  protected readonly on = signal<boolean | null>(null);
  protected readonly left = signal(0);
  protected readonly enrolment = signal<{ secret: string; qr: SafeHtml } | null>(null);
  protected readonly codes = signal<string[] | null>(null);
  protected readonly copied = signal(false);

  ngOnInit(): void {
    void this.load();
  }

  private async load(): Promise<void> {
    const status = await this.#auth.secondFactors();
    if (!status.ok) return;
    this.on.set(status.value.totp);
    this.left.set(status.value.recovery_codes_left);
  }

  protected readonly start = async (
    values: Record<string, string>,
  ): Promise<LatchkeyResult<string>> => {
    const result = await this.#auth.startTotp(values['current_password'] ?? '');
    if (!result.ok) return result;
    // The SVG is drawn by the server's QR library from the otpauth URL it made: no user input.
    this.enrolment.set({
      secret: result.value.secret,
      qr: this.#sanitizer.bypassSecurityTrustHtml(result.value.qr_svg),
    });
    return { ok: true, value: '' };
  };

  protected readonly confirm = async (
    values: Record<string, string>,
  ): Promise<LatchkeyResult<string>> => {
    const result = await this.#auth.confirmTotp(values['code'] ?? '');
    if (!result.ok) return result;
    this.enrolment.set(null);
    this.codes.set(result.value);
    await this.load();
    return { ok: true, value: 'Two-step sign-in is on.' };
  };

  protected readonly regenerate = async (
    values: Record<string, string>,
  ): Promise<LatchkeyResult<string>> => {
    const result = await this.#auth.regenerateRecoveryCodes({ code: values['code'] ?? '' });
    if (!result.ok) return result;
    this.codes.set(result.value);
    await this.load();
    return { ok: true, value: 'New recovery codes.' };
  };

  protected readonly turnOff = async (
    values: Record<string, string>,
  ): Promise<LatchkeyResult<string>> => {
    const result = await this.#auth.removeTotp(values['current_password'] ?? '', {
      code: values['code'] ?? '',
    });
    if (result.ok) await this.load();
    return result;
  };

  protected async copy(list: string[]): Promise<void> {
    await navigator.clipboard.writeText(list.join('\n')).then(
      () => this.copied.set(true),
      () => this.copied.set(false),
    );
  }

  protected download(list: string[]): void {
    const url = URL.createObjectURL(
      new Blob([`Latchkey recovery codes\n\n${list.join('\n')}\n`], { type: 'text/plain' }),
    );
    const link = document.createElement('a');
    link.href = url;
    link.download = 'latchkey-recovery-codes.txt';
    link.click();
    URL.revokeObjectURL(url);
  }
}
