import { REFRESH_COOKIE_NAME } from '@latchkey/contract';
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
  const attributes: CookieSerializeOptions = {
    httpOnly: true,
    secure: options.secure,
    sameSite: options.sameSite.toLowerCase() as 'strict' | 'lax' | 'none',
    path: '/auth',
  };
  return {
    read(request) {
      const value = request.cookies[REFRESH_COOKIE_NAME];
      return value === undefined || value === '' ? undefined : value;
    },
    set(reply, token, maxAgeSeconds) {
      reply.setCookie(REFRESH_COOKIE_NAME, token, { ...attributes, maxAge: maxAgeSeconds });
    },
    clear(reply) {
      reply.setCookie(REFRESH_COOKIE_NAME, '', { ...attributes, maxAge: 0, expires: new Date(0) });
    },
  };
}
