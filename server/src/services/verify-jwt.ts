/**
 * Verification of a compact EdDSA (Ed25519) JWT in the calling thread with node:crypto: the same
 * checks, in the same order, as jose's `jwtVerify` made before (RFC 7515 §5.2, RFC 7519 §7.2,
 * RFC 8725), but without WebCrypto's promise, which runs every verification as a job in libuv's
 * threadpool, where it queued behind password hashes (issue 14, decision 0013). One Ed25519
 * verification is about 50 µs of CPU: cheaper done here than handed to a thread and back.
 */
import { type KeyObject, verify as verifySignature } from 'node:crypto';
import { AuthError } from '../errors.ts';

/** The only algorithm accepted (RFC 8037; decision 0003); anything else fails before any key. */
export const JWT_ALGORITHM = 'EdDSA';

/** base64url without padding (RFC 7515 §2), the only form a compact JWS segment may take. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/**
 * An Ed25519 signature is 64 bytes: 86 base64url characters whose last one carries 2 bits, so it
 * is A, Q, g or w. Any other spelling of the same bytes is refused, so one signature has one form.
 */
const ED25519_SIGNATURE = /^[A-Za-z0-9_-]{85}[AQgw]$/;
/** Invalid UTF-8 is an error, not a replacement character (as jose's strict decoder). */
const utf8 = new TextDecoder('utf-8', { fatal: true });

type Json = Record<string, unknown>;

/** A compact JWS split, its protected header parsed and checked, before any signature work. */
export interface ParsedJwt {
  kid: string;
  header: Json;
  /** The ASCII bytes the signature covers: header segment, '.', payload segment. */
  signingInput: string;
  payloadSegment: string;
  signatureSegment: string;
}

export interface JwtRules {
  issuer: string;
  audience: string;
  /** Claims that must be present (RFC 7519 §4.1); iss and aud always are. */
  requiredClaims: readonly string[];
  /** The current time, in whole seconds since the epoch. */
  nowSeconds: number;
  /** Seconds of clock skew accepted on nbf and exp; 0 by default (JWT_CLOCK_TOLERANCE). */
  toleranceSeconds: number;
}

const invalid = (reason: string): never => {
  throw new AuthError('invalid_token', { cause: new Error(reason) });
};

/** A plain JSON object: not an array, not null, not a primitive. */
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function decodeJsonSegment(segment: string, what: string): Json {
  if (!BASE64URL.test(segment)) return invalid(`${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    return invalid(`${what} is not JSON in UTF-8`);
  }
  return isObject(value) ? value : invalid(`${what} is not a JSON object`);
}

/** jose's rule for `typ`: case-insensitive, with or without the `application/` prefix. */
const normalizeTyp = (typ: string) => {
  const lower = typ.toLowerCase();
  return typ.includes('/') ? lower : `application/${lower}`;
};

/**
 * Splits a compact JWS and checks its protected header: exactly three segments, a JSON object
 * header with `alg: EdDSA` (RFC 8725 §3.1: the algorithm is fixed by the verifier, never chosen
 * by the token), no `crit` (no extension is understood, RFC 7515 §4.1.11), and a string `kid`.
 * Header keys (`jwk`, `jku`, `x5u`) are never looked at: keys come from the database only.
 */
export function parseJwt(token: string): ParsedJwt {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.includes('.', second + 1)) {
    return invalid('not three segments');
  }
  const header = decodeJsonSegment(token.slice(0, first), 'header');
  const { alg, kid } = header;
  if (alg !== JWT_ALGORITHM) return invalid('alg is not EdDSA');
  if (header['crit'] !== undefined) return invalid('crit is not supported');
  if (typeof kid !== 'string') return invalid('no kid');
  return {
    kid,
    header,
    signingInput: token.slice(0, second),
    payloadSegment: token.slice(first + 1, second),
    signatureSegment: token.slice(second + 1),
  };
}

const isNumberIfPresent = (claims: Json, name: string) =>
  claims[name] === undefined || typeof claims[name] === 'number';

/**
 * Checks the signature with `publicKey`, then the claims in jose's order: `typ` JWT, the required
 * claims present, `iss` and `aud` equal to ours, `iat`/`nbf`/`exp` numbers, `nbf` reached and
 * `exp` not passed (RFC 7519 §4.1.4-5, with `toleranceSeconds` of leeway). Only a token that is
 * correctly signed and otherwise valid is `token_expired`; every other failure is
 * `invalid_token`. Returns the claims set.
 */
export function verifyJwt(jwt: ParsedJwt, publicKey: KeyObject, rules: JwtRules): Json {
  if (!ED25519_SIGNATURE.test(jwt.signatureSegment)) return invalid('not an Ed25519 signature');
  let signed: boolean;
  try {
    signed = verifySignature(
      null,
      Buffer.from(jwt.signingInput, 'latin1'),
      publicKey,
      Buffer.from(jwt.signatureSegment, 'base64url'),
    );
  } catch {
    signed = false;
  }
  if (!signed) return invalid('bad signature');

  const claims = decodeJsonSegment(jwt.payloadSegment, 'payload');
  const { typ } = jwt.header;
  if (typeof typ !== 'string' || normalizeTyp(typ) !== 'application/jwt') {
    return invalid('typ is not JWT');
  }
  for (const name of [...rules.requiredClaims, 'aud', 'iss']) {
    if (!Object.hasOwn(claims, name)) return invalid(`no ${name}`);
  }
  if (claims['iss'] !== rules.issuer) return invalid('another issuer');
  const { aud } = claims;
  if (!(aud === rules.audience || (Array.isArray(aud) && aud.includes(rules.audience)))) {
    return invalid('another audience');
  }
  if (!isNumberIfPresent(claims, 'iat')) return invalid('iat is not a number');
  if (!isNumberIfPresent(claims, 'nbf')) return invalid('nbf is not a number');
  const { nbf, exp } = claims as { nbf?: number; exp?: number };
  if (nbf !== undefined && nbf > rules.nowSeconds + rules.toleranceSeconds) {
    return invalid('not yet valid');
  }
  if (!isNumberIfPresent(claims, 'exp')) return invalid('exp is not a number');
  if (exp !== undefined && exp <= rules.nowSeconds - rules.toleranceSeconds) {
    throw new AuthError('token_expired');
  }
  return claims;
}
