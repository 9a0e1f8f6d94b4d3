import {
  createPrivateKey,
  createPublicKey,
  type JsonWebKey,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { type JWK, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { AuthError } from '../errors.ts';
import type { SigningKeyRecord, Store } from '../store/store.ts';
import type { Clock } from './clock.ts';
import type { KeySealer } from './key-sealer.ts';
import { createLruCache } from './lru-cache.ts';
import { signJwt } from './sign-jwt.ts';
import { JWT_ALGORITHM, parseJwt, verifyJwt } from './verify-jwt.ts';

/**
 * EdDSA over Ed25519 (RFC 8037): small keys and signatures, deterministic signing, no nonce to get
 * wrong. It is the only algorithm accepted: `alg: none`, HMAC and every other `alg` fail before any
 * key is looked at (RFC 8725 §3.1, §2.1). See docs/decisions/0003-signing-algorithm.md.
 */
const ALGORITHM = JWT_ALGORITHM;
/** Tokens larger than this are not even parsed (a real one is about 400 bytes). */
const MAX_TOKEN_LENGTH = 8192;
/** Claims every access token carries (RFC 7519 §4.1), besides iss and aud. */
const REQUIRED_CLAIMS = ['sub', 'sid', 'jti', 'iat', 'exp'] as const;
/** An unknown kid or a JWKS request reloads the keys (another instance may have rotated), at most this often. */
const KEY_RELOAD_MIN_INTERVAL_MS = 1000;
/**
 * Before signing, an instance re-reads the signing keys when its copy is older than this (one
 * SELECT of a table of a few rows, at most once a second, on paths that write to the database
 * anyway), so after `rotate-keys` every instance signs with the new key within a second (v2
 * contract: within 2). Checking a token never waits for it.
 */
const KEY_RELOAD_INTERVAL_MS = 1000;
/**
 * How long after its retirement a key may still have signed a token: an instance signs with it
 * until its next reload (a second, or longer while a reload is under way). Retired keys stay accepted for this plus the token lifetime, so every
 * token verifies until its own `exp` (v2 contract, "Key rotation is seamless"); an instance that
 * cannot reach the database for longer may sign tokens that end this much sooner.
 */
const SIGNING_LAG_MS = 5 * KEY_RELOAD_INTERVAL_MS;

export interface AccessClaims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface IssuedToken {
  token: string;
  expiresInSeconds: number;
}

export interface AccessTokensOptions {
  store: Store;
  clock: Clock;
  /** Seals private keys before they are stored, opens them when they are loaded. */
  sealer: KeySealer;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clockToleranceSeconds: number;
  /**
   * Verified tokens kept in memory, least recently used dropped first (ACCESS_TOKEN_CACHE_SIZE);
   * each entry is one token string and its claims (about 1 KB).
   */
  cacheSize: number;
}

export interface AccessTokens {
  /** Loads the signing keys, creating the first one on an empty database. */
  loadKeys(): Promise<void>;
  /** `amr`: how the session signed in (RFC 8176), e.g. `['pwd']` or `['pwd', 'otp', 'mfa']`. */
  issue(subject: { userId: string; sessionId: string; amr?: string[] }): Promise<IssuedToken>;
  /**
   * The claims of a valid token, or AuthError `invalid_token` / `token_expired`. Revocation is
   * checked by the caller (sessions), not here.
   */
  verify(token: string): Promise<AccessClaims>;
  /**
   * Public keys of every key whose tokens may still be valid (RFC 7517 JWK Set), re-read from the
   * database when the last read is over a second old, so a rotation made elsewhere shows at once.
   */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  /** Creates a new signing key and retires the others (they stay in the JWKS until their tokens expire). */
  rotateKeys(): Promise<string>;
  /** Look-ups of the verified-token cache since start (issue 14: its hit rate is a metric). */
  cacheStats(): { hits: number; misses: number; entries: number };
}

/** A public key as the JWKS publishes it: always with its type and kid (RFC 7517 §4.1, §4.5). */
export type PublicJwk = JWK & { kty: string; kid: string };

interface LoadedKey {
  record: SigningKeyRecord;
  /** node:crypto keys, made once per key: signing and verifying run in this thread (decision 0013). */
  publicKey: KeyObject;
  privateKey: KeyObject;
  publicJwk: PublicJwk;
}

/** Generates an Ed25519 key pair and the record that stores it; the kid is its RFC 7638 thumbprint. */
export async function generateSigningKey(now: number): Promise<SigningKeyRecord> {
  const pair = await generateKeyPair(ALGORITHM, { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  const privateJwk = await exportJWK(pair.privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    algorithm: ALGORITHM,
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg: ALGORITHM, use: 'sig' }),
    privateJwk: JSON.stringify({ ...privateJwk, kid, alg: ALGORITHM }),
    createdAt: now,
    retiredAt: null,
  };
}

/**
 * Access tokens: short-lived JWTs (RFC 7519, RFC 8725 best practices) signed with keys kept in
 * the database so every instance and every restart agrees on them.
 *
 * The hot path: a token that verified once is remembered (keyed by its exact bytes) until it
 * expires or the cache drops it, so checking it again is a map look-up and an expiry comparison:
 * no signature work, no database round trip. Any change to the token's bytes misses the cache and
 * is verified in full, synchronously with node:crypto (verify-jwt.ts): never a threadpool job,
 * so a token never waits behind password hashes (decision 0013).
 */
export function createAccessTokens(options: AccessTokensOptions): AccessTokens {
  const { store, clock, sealer } = options;
  let keys = new Map<string, LoadedKey>();
  let signingKey: LoadedKey | undefined;
  const verified = createLruCache<string, AccessClaims>(options.cacheSize);
  // Plain numbers, read at scrape time: the hot path pays one increment, not a metrics call.
  let cacheHits = 0;
  let cacheMisses = 0;
  let lastLoadAt = Number.NEGATIVE_INFINITY;

  const importKey = (record: SigningKeyRecord): LoadedKey => {
    const publicJwk = JSON.parse(record.publicJwk) as PublicJwk;
    const privateJwk = JSON.parse(sealer.open(record.privateJwk, record.kid)) as JsonWebKey;
    return {
      record,
      publicJwk,
      publicKey: createPublicKey({ key: publicJwk, format: 'jwk' }),
      privateKey: createPrivateKey({ key: privateJwk, format: 'jwk' }),
    };
  };

  /** A retired key still verifies until the last token it signed has expired. */
  const stillAccepted = (record: SigningKeyRecord, now: number) =>
    record.retiredAt === null ||
    record.retiredAt +
      SIGNING_LAG_MS +
      (options.ttlSeconds + options.clockToleranceSeconds) * 1000 >
      now;

  /** A new key's record with its private part sealed (plain without KEY_ENCRYPTION_KEY). */
  const newSealedKey = async (): Promise<SigningKeyRecord> => {
    const record = await generateSigningKey(clock.now());
    return { ...record, privateJwk: sealer.seal(record.privateJwk, record.kid) };
  };

  /**
   * With KEY_ENCRYPTION_KEY set, keys stored plain (before it was set) are sealed in place: a
   * compare-and-set on the plain value, so instances starting together seal each key once.
   */
  const sealPlainKeys = async (records: SigningKeyRecord[]): Promise<boolean> => {
    let sealedAny = false;
    for (const record of records) {
      if (!sealer.enabled || sealer.isSealed(record.privateJwk)) continue;
      const sealed = sealer.seal(record.privateJwk, record.kid);
      await store.replaceSigningKeyPrivateJwk(record.kid, record.privateJwk, sealed);
      sealedAny = true;
    }
    return sealedAny;
  };

  const loadKeys = async () => {
    lastLoadAt = clock.now();
    let records = await store.listSigningKeys();
    if (!records.some((r) => r.retiredAt === null)) {
      await store.insertFirstSigningKey(await newSealedKey());
      records = await store.listSigningKeys();
    }
    if (await sealPlainKeys(records)) records = await store.listSigningKeys();
    const now = clock.now();
    const next = new Map<string, LoadedKey>();
    for (const record of records) {
      if (!stillAccepted(record, now)) continue;
      // A key already imported keeps its key material, with the row as it is now: its retirement
      // must be seen, or a retired key would still count as active and might be signed with.
      const loaded = keys.get(record.kid);
      next.set(record.kid, loaded === undefined ? importKey(record) : { ...loaded, record });
    }
    const removed = [...keys.keys()].some((kid) => !next.has(kid));
    keys = next;
    // Sign with the newest active key; every instance computes the same choice from the same rows.
    signingKey = [...next.values()]
      .filter((k) => k.record.retiredAt === null)
      .sort(
        (a, b) => b.record.createdAt - a.record.createdAt || (a.record.kid < b.record.kid ? -1 : 1),
      )[0];
    if (removed) verified.clear();
  };

  /** One reload at a time: parallel sign-ins share the one in flight. */
  let reloading: Promise<void> | undefined;
  const reloadOnce = (): Promise<void> => {
    reloading ??= loadKeys().finally(() => {
      reloading = undefined;
    });
    return reloading;
  };

  const checkExpiry = (claims: AccessClaims) => {
    if (claims.exp + options.clockToleranceSeconds <= Math.floor(clock.now() / 1000)) {
      throw new AuthError('token_expired');
    }
  };

  return {
    loadKeys,

    async issue({ userId, sessionId, amr }) {
      if (clock.now() - lastLoadAt >= KEY_RELOAD_INTERVAL_MS) await reloadOnce();
      if (signingKey === undefined) throw new Error('Signing keys are not loaded');
      const iat = Math.floor(clock.now() / 1000);
      const token = signJwt(
        { alg: ALGORITHM, typ: 'JWT', kid: signingKey.record.kid },
        {
          sid: sessionId,
          ...(amr === undefined ? {} : { amr }),
          iss: options.issuer,
          aud: options.audience,
          sub: userId,
          jti: randomUUID(),
          iat,
          exp: iat + options.ttlSeconds,
        },
        signingKey.privateKey,
      );
      return { token, expiresInSeconds: options.ttlSeconds };
    },

    async verify(token) {
      const cached = verified.get(token);
      if (cached !== undefined) {
        cacheHits += 1;
        checkExpiry(cached);
        return cached;
      }
      cacheMisses += 1;
      if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('invalid_token');
      const jwt = parseJwt(token);
      let key = keys.get(jwt.kid);
      if (key === undefined && clock.now() - lastLoadAt >= KEY_RELOAD_MIN_INTERVAL_MS) {
        try {
          await loadKeys();
        } catch (error) {
          // Reloading keys for an unknown kid can meet a database outage: that is a 503 to retry,
          // not a verdict on the token (a 401 would make clients drop a session that may be fine).
          if (error instanceof AuthError && error.code === 'service_unavailable') throw error;
          throw new AuthError('invalid_token', { cause: error });
        }
        key = keys.get(jwt.kid);
      }
      if (key === undefined) throw new AuthError('invalid_token');
      const payload = verifyJwt(jwt, key.publicKey, {
        issuer: options.issuer,
        audience: options.audience,
        requiredClaims: REQUIRED_CLAIMS,
        nowSeconds: Math.floor(clock.now() / 1000),
        toleranceSeconds: options.clockToleranceSeconds,
      });
      const { sub, sid, jti, iat, exp } = payload;
      if (
        typeof sub !== 'string' ||
        typeof sid !== 'string' ||
        typeof jti !== 'string' ||
        typeof iat !== 'number' ||
        typeof exp !== 'number'
      ) {
        throw new AuthError('invalid_token');
      }
      const claims: AccessClaims = { sub, sid, jti, iat, exp };
      verified.set(token, claims);
      return claims;
    },

    async jwks() {
      if (clock.now() - lastLoadAt >= KEY_RELOAD_MIN_INTERVAL_MS) await loadKeys();
      const now = clock.now();
      return {
        keys: [...keys.values()]
          .filter((k) => stillAccepted(k.record, now))
          .map((k) => k.publicJwk),
      };
    },

    async rotateKeys() {
      const record = await newSealedKey();
      await store.insertSigningKey(record);
      await store.retireSigningKeysExcept(record.kid, clock.now());
      await loadKeys();
      return record.kid;
    },

    cacheStats: () => ({ hits: cacheHits, misses: cacheMisses, entries: verified.size }),
  };
}
