/**
 * API access: bearer tokens from the configuration (scopes read and admin), or the session cookie
 * the web page gets from POST /api/session. Without any token configured, the API answers loopback
 * clients only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiScope, ApiToken } from '../../config/index.ts';

export const SESSION_COOKIE = 'paddock_session';

export type Access = { scope: ApiScope; auth: 'token' | 'none' } | { denied: 401 | 403; message: string };

const digest = (value: string) => createHash('sha256').update(value).digest();

export class ApiAuth {
  private readonly tokens: Array<{ scope: ApiScope; digest: Buffer }>;

  constructor(tokens: readonly ApiToken[]) {
    this.tokens = tokens.map((token) => ({ scope: token.scope, digest: digest(token.token) }));
  }

  get open(): boolean {
    return this.tokens.length === 0;
  }

  /** The scope of a token, or null. Every configured token is compared, in constant time. */
  scopeOf(token: string): ApiScope | null {
    const candidate = digest(token);
    let found: ApiScope | null = null;
    for (const known of this.tokens) {
      if (timingSafeEqual(known.digest, candidate) && found !== 'admin') found = known.scope;
    }
    return found;
  }

  /** Who the request is: its bearer token first, else the session cookie. */
  access(request: FastifyRequest): Access {
    if (this.open) {
      if (isLoopback(request.socket.remoteAddress)) return { scope: 'admin', auth: 'none' };
      return { denied: 403, message: 'no API token is configured (PADDOCK_API_TOKENS): the API answers loopback clients only' };
    }
    const header = request.headers.authorization;
    let token: string | undefined;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (match === null) return { denied: 401, message: 'the Authorization header must be "Bearer <token>"' };
      token = match[1];
    } else {
      token = request.cookies?.[SESSION_COOKIE];
    }
    if (token === undefined || token.length === 0) return { denied: 401, message: 'a token is required (Authorization: Bearer <token>)' };
    const scope = this.scopeOf(token);
    if (scope === null) return { denied: 401, message: 'unknown token' };
    return { scope, auth: 'token' };
  }
}

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function deny(reply: FastifyReply, status: 401 | 403, message: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="paddock"');
  return reply.code(status).send({ error: { code: status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', message } });
}
