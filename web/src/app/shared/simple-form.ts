import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  Injector,
  afterNextRender,
  inject,
  input,
  output,
  signal,
  viewChild,
} from '@angular/core';
import type { LatchkeyResult } from '@latchkey/angular';
import { retryAfterText } from './retry-after-text';

/** One input of a {@link SimpleForm}; `name` is the server's field name (for its errors). */
export interface FormField {
  name: string;
  label: string;
  type: 'email' | 'password' | 'text';
  autocomplete:
    'username' | 'email' | 'current-password' | 'new-password' | 'one-time-code' | 'off';
  hint?: string;
}

/**
 * A small form for the account and email pages: real labels, the server's message in a
 * `role="alert"` element that takes focus (WCAG 2.2, 3.3.1), field errors tied to their inputs
 * with `aria-invalid` and `aria-describedby`, no double submit. A failure clears the password
 * fields and keeps the others; a success clears every field and shows the server's message in a
 * `role="status"` element.
 */
@Component({
  selector: 'app-simple-form',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <form class="card form" novalidate (submit)="$event.preventDefault(); submit()">
      @if (error(); as message) {
        <p class="alert" role="alert" tabindex="-1" #alert>{{ message }}</p>
      }
      @if (done(); as message) {
        <p class="notice-box" role="status">{{ message }}</p>
      }
      @for (field of fields(); track field.name) {
        <div class="field">
          <label [for]="idOf(field)">{{ field.label }}</label>
          <input
            [id]="idOf(field)"
            [name]="field.name"
            [type]="field.type"
            [attr.autocomplete]="field.autocomplete"
            [value]="values()[field.name] ?? ''"
            (input)="set(field.name, $any($event.target).value)"
            [attr.aria-invalid]="fieldErrors()[field.name] ? 'true' : null"
            [attr.aria-describedby]="describedBy(field)"
          />
          @if (fieldErrors()[field.name]; as problem) {
            <p class="field-error" [id]="idOf(field) + '-error'">{{ problem }}</p>
          } @else if (field.hint) {
            <p class="hint" [id]="idOf(field) + '-hint'">{{ field.hint }}</p>
          }
        </div>
      }
      <button type="submit" class="primary" [disabled]="pending()" [attr.aria-busy]="pending()">
        {{ submitLabel() }}
        @if (pending()) {
          <span class="spinner" aria-hidden="true"></span>
        }
      </button>
    </form>
  `,
})
export class SimpleForm {
  /** Prefix of the inputs' ids, so two forms on one page keep them unique. */
  readonly formId = input.required<string>();
  readonly fields = input<FormField[]>([]);
  readonly submitLabel = input.required<string>();
  /** What submitting does, given the values by field name; its value is the message shown. */
  readonly action =
    input.required<(values: Record<string, string>) => Promise<LatchkeyResult<string>>>();
  readonly succeeded = output<string>();

  protected readonly values = signal<Record<string, string>>({});
  protected readonly pending = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly done = signal<string | null>(null);
  protected readonly fieldErrors = signal<Record<string, string>>({});
  private readonly alert = viewChild<ElementRef<HTMLElement>>('alert');
  readonly #injector = inject(Injector);

  protected idOf(field: FormField): string {
    return `${this.formId()}-${field.name.replaceAll('_', '-')}`;
  }

  protected describedBy(field: FormField): string | null {
    if (this.fieldErrors()[field.name]) return `${this.idOf(field)}-error`;
    return field.hint ? `${this.idOf(field)}-hint` : null;
  }

  protected set(name: string, value: string): void {
    this.values.update((values) => ({ ...values, [name]: value }));
  }

  protected async submit(): Promise<void> {
    if (this.pending()) return;
    this.pending.set(true);
    this.error.set(null);
    this.done.set(null);
    this.fieldErrors.set({});
    const result = await this.action()(this.values());
    this.pending.set(false);
    if (result.ok) {
      this.values.set({});
      this.done.set(result.value);
      this.succeeded.emit(result.value);
      return;
    }
    const wait = result.code === 'rate_limited' ? retryAfterText(result.retryAfterSeconds) : '';
    this.error.set(wait === '' ? result.message : `${result.message} ${wait}`);
    this.fieldErrors.set(result.fields);
    const passwords = new Set(
      this.fields()
        .filter((f) => f.type === 'password')
        .map((f) => f.name),
    );
    this.values.update((values) =>
      Object.fromEntries(Object.entries(values).filter(([name]) => !passwords.has(name))),
    );
    afterNextRender(() => this.alert()?.nativeElement.focus(), { injector: this.#injector });
  }
}
