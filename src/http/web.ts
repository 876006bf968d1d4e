/**
 * The web app, served from memory: web/index.html with a Content-Security-Policy that allows only
 * our own files and the page's inline boot script (by its SHA-256 hash), and web/assets/* under
 * content-hashed URLs (`/assets/app.js?v=<hash>`), which browsers may cache for good.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../config/index.ts';

/** The web app's files (no build step): index.html and assets/. */
export const WEB_ROOT = path.join(PROJECT_ROOT, 'web');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface WebAsset {
  body: Buffer;
  contentType: string;
  /** The first 16 hex digits of the content's SHA-256: the `v` of its URL and its ETag. */
  hash: string;
}

export interface WebApp {
  html: string;
  contentSecurityPolicy: string;
  /** By file name under assets/. */
  assets: Map<string, WebAsset>;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data);

/** Reads the page and its assets once (a changed file needs a restart, like the rest of the code). */
export function loadWebApp(root: string = WEB_ROOT): WebApp {
  const assets = new Map<string, WebAsset>();
  for (const name of readdirSync(path.join(root, 'assets'))) {
    const contentType = CONTENT_TYPES[path.extname(name)];
    if (contentType === undefined) continue;
    const body = readFileSync(path.join(root, 'assets', name));
    assets.set(name, { body, contentType, hash: sha256(body).digest('hex').slice(0, 16) });
  }
  const html = readFileSync(path.join(root, 'index.html'), 'utf8').replace(/(["'])\/assets\/([^"'?]+)\1/g, (whole, quote: string, name: string) => {
    const asset = assets.get(name);
    return asset === undefined ? whole : `${quote}/assets/${name}?v=${asset.hash}${quote}`;
  });
  const scriptHashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => `'sha256-${sha256(match[1]!).digest('base64')}'`);
  const contentSecurityPolicy = [
    "default-src 'self'",
    `script-src 'self' ${scriptHashes.join(' ')}`.trim(),
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy, assets };
}

/** `/` (the page) and `/assets/:name`, open without a token like the probes. */
export function registerWebRoutes(app: FastifyInstance, web: WebApp = loadWebApp()): void {
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', web.contentSecurityPolicy)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .send(web.html),
  );
  app.get<{ Params: { name: string }; Querystring: { v?: string } }>('/assets/:name', { schema: { hide: true } }, async (request, reply) => {
    const asset = web.assets.get(request.params.name);
    if (asset === undefined) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no asset ${request.params.name}` } });
    const etag = `"${asset.hash}"`;
    // The page names each asset with its content hash: that URL never changes content.
    reply
      .header('etag', etag)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', request.query.v === asset.hash ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type(asset.contentType).send(asset.body);
  });
}
