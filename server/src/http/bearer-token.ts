import { AuthError } from '../errors.ts';

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1; the scheme is
 * case-insensitive, RFC 9110 §11.1). Undefined when there is no header; AuthError
 * `missing_token` for an empty token, `invalid_token` for any other shape (`Bearer<token>`,
 * another scheme, spaces inside the token).
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^bearer(?:[ ]+(\S*))?[ ]*$/i.exec(header.trim() === '' ? 'bearer' : header);
  if (match === null) throw new AuthError('invalid_token');
  const token = match[1];
  if (token === undefined || token === '') throw new AuthError('missing_token');
  return token;
}
