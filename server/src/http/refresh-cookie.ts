import { DEVICE_COOKIE_NAME, REFRESH_COOKIE_NAME } from '@latchkey/contract';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SameSite } from '../config.ts';

export interface RefreshCookieOptions {
  sameSite: SameSite;
  secure: boolean;
}

export interface RefreshCookie {
  read(request: FastifyRequest): string | undefined;
  set(reply: FastifyReply, token: string, maxAgeSeconds: number): void;
  clear(reply: FastifyReply): void;
}

/**
 * The refresh token's cookie: HttpOnly (scripts never see it), scoped to /auth (sent nowhere
 * else), SameSite=Strict by default and Secure unless turned off for plain-http development
 * (RFC 6265bis §4.1.2; OWASP Session Management Cheat Sheet, "Cookies").
 */
export function createRefreshCookie(options: RefreshCookieOptions): RefreshCookie {
  return createAuthCookie(REFRESH_COOKIE_NAME, options);
}

/**
 * The device cookie (OWASP Authentication Cheat Sheet, "device cookies"; v2 contract): the same
 * attributes as the refresh cookie, set by every successful login with a Max-Age of a year. It
 * outlives logout on purpose: it says "this browser signed in to this account before".
 */
export function createDeviceCookie(options: RefreshCookieOptions): RefreshCookie {
  return createAuthCookie(DEVICE_COOKIE_NAME, options);
}

function createAuthCookie(name: string, options: RefreshCookieOptions): RefreshCookie {
  const attributes: CookieSerializeOptions = {
    httpOnly: true,
    secure: options.secure,
    sameSite: options.sameSite.toLowerCase() as 'strict' | 'lax' | 'none',
    path: '/auth',
  };
  return {
    read(request) {
      const value = request.cookies[name];
      return value === undefined || value === '' ? undefined : value;
    },
    set(reply, token, maxAgeSeconds) {
      reply.setCookie(name, token, { ...attributes, maxAge: maxAgeSeconds });
    },
    clear(reply) {
      reply.setCookie(name, '', { ...attributes, maxAge: 0, expires: new Date(0) });
    },
  };
}
