/**
 * The registry API under /api (docs/api.md): streams, horses, thumbnails, timelines; rename,
 * official flag, soft delete, merge, split, undo, herd size; live events per stream (SSE).
 * Every change is one registry transaction (the running stream actor sees it on its next chunk)
 * and an output event.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PaddockError } from '../../errors/index.ts';
import type { Logger } from '../../log/index.ts';
import type { SqlRegistryStore } from '../../registry/index.ts';
import { STREAM_ID_PATTERN, type EventFeed, type EventPublisher, type PaddockEvent } from '../../sources/index.ts';
import type { RegistryChange } from '../../metrics/index.ts';
import { AvatarCache } from './avatar-cache.ts';
import { ApiAuth, deny, SESSION_COOKIE, type Access } from './auth.ts';
import { errorSchema, herdJson, herdSchema, horseDetailJson, horseDetailSchema, horseJson, horseSchema, streamJson, streamSchema } from './json.ts';
import { openEventStream } from './event-stream.ts';

export interface ApiOptions {
  /** The registry; null while the daemon is still opening it (the API answers 503). */
  store: () => SqlRegistryStore | null;
  auth: ApiAuth;
  /** Live events for /events (every replica's, through NATS, or this process's). */
  feed: EventFeed;
  /** Where changes are announced; null: nowhere (the change is still made). */
  events: () => EventPublisher | null;
  logger: Logger;
  hooks?: ApiHooks;
}

/** What the daemon's metrics hear from the API. */
export interface ApiHooks {
  /** An answered /api request: the route pattern (bounded), method and status. */
  onRequest?(route: string, method: string, status: number): void;
  onChange?(change: RegistryChange): void;
  onEventStreams?(open: number): void;
}

const API_BODY_LIMIT = 16 * 1024;
const MAX_SIGHTINGS = 1000;

const streamParam = { stream: { type: 'string', pattern: STREAM_ID_PATTERN.source } } as const;
const horseIdParam = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } as const;
const streamParams = { type: 'object', required: ['stream'], properties: streamParam } as const;
const horseParams = { type: 'object', required: ['stream', 'id'], properties: { ...streamParam, id: horseIdParam } } as const;
const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema } as const;
const changeErrors = { ...errors, 409: errorSchema, 413: errorSchema } as const;

type StreamParams = { stream: string };
type HorseParams = { stream: string; id: string };

const HTTP_STATUS: Partial<Record<string, number>> = { NOT_FOUND: 404, USAGE: 400, CONFLICT: 409, VERSION_CONFLICT: 409, DATABASE: 503 };

export function registerApiRoutes(app: FastifyInstance, options: ApiOptions): void {
  const { auth } = options;
  const registry = (): SqlRegistryStore => {
    const store = options.store();
    if (store === null) throw new PaddockError('DATABASE', 'the registry is still opening');
    return store;
  };
  const avatars = new AvatarCache();
  const hooks = options.hooks ?? {};
  const logger = options.logger.child({ component: 'api' });
  const announce = (event: PaddockEvent) => options.events()?.publish(event);
  // Who made each request, for the audit line of a change.
  const accessOf = new WeakMap<FastifyRequest, Access>();
  /** A change went through: its output event, its audit log line and its count. */
  const changed = (request: FastifyRequest, change: RegistryChange, event: PaddockEvent) => {
    announce(event);
    const access = accessOf.get(request);
    logger.info(
      { change, event, scope: access !== undefined && 'scope' in access ? access.scope : undefined, auth: access !== undefined && 'auth' in access ? access.auth : undefined, remote: request.ip },
      'registry changed through the API',
    );
    hooks.onChange?.(change);
  };

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (!path.startsWith('/api/') || path === '/api/openapi.json' || path === '/api/session') return;
    const access = auth.access(request);
    accessOf.set(request, access);
    if ('denied' in access) return deny(reply, access.denied, access.message);
    if (request.method !== 'GET' && request.method !== 'HEAD' && access.scope !== 'admin') return deny(reply, 403, 'this token may only read (scope read)');
  });

  app.addHook('onResponse', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    hooks.onRequest?.(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode);
  });

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number; validation?: unknown }, request, reply) => {
    if (error.validation !== undefined) return reply.code(400).send({ error: { code: 'VALIDATION', message: error.message } });
    if (error instanceof PaddockError) {
      const status = HTTP_STATUS[error.code];
      if (status !== undefined) return reply.code(status).send({ error: { code: error.code, message: error.message } });
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: { code: error.code ?? 'BAD_REQUEST', message: error.message } });
    }
    request.log.error({ err: error.message, url: request.url }, 'API request failed');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error (see the daemon log)' } });
  });

  // --- session (the web page's cookie) ------------------------------------------------------
  app.get('/api/session', { schema: { tags: ['session'], summary: 'who am I', response: { 200: sessionSchema, 401: errorSchema, 403: errorSchema } } }, async (request, reply) => {
    const access = auth.access(request);
    if ('denied' in access) return deny(reply, access.denied, access.message);
    return { scope: access.scope, auth: access.auth };
  });

  app.post<{ Body: { token: string } }>(
    '/api/session',
    {
      bodyLimit: 4096,
      schema: {
        tags: ['session'],
        summary: 'exchange a token for a session cookie (HttpOnly, SameSite=Strict)',
        body: { type: 'object', required: ['token'], additionalProperties: false, properties: { token: { type: 'string', minLength: 1, maxLength: 512 } } },
        response: { 200: sessionSchema, 400: errorSchema, 401: errorSchema },
      },
    },
    async (request, reply) => {
      if (auth.open) return { scope: 'admin', auth: 'none' };
      const scope = auth.scopeOf(request.body.token);
      if (scope === null) return deny(reply, 401, 'unknown token');
      reply.setCookie(SESSION_COOKIE, request.body.token, { httpOnly: true, sameSite: 'strict', path: '/', secure: request.protocol === 'https' });
      return { scope, auth: 'token' };
    },
  );

  app.delete('/api/session', { schema: { tags: ['session'], summary: 'forget the session cookie' } }, async (_request, reply) => {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  // --- reading ----------------------------------------------------------------------------------
  app.get('/api/streams', { schema: { tags: ['streams'], summary: 'streams with horse counts, last chunk and lag', response: { 200: { type: 'object', required: ['streams'], properties: { streams: { type: 'array', items: streamSchema } } }, ...errors } } }, async () => {
    const now = new Date();
    return { streams: (await registry().browse.streams()).map((stream) => streamJson(stream, now)) };
  });

  app.get<{ Params: StreamParams; Querystring: { include_deleted?: boolean } }>(
    '/api/streams/:stream/horses',
    {
      schema: {
        tags: ['horses'],
        summary: "a stream's horses",
        params: streamParams,
        querystring: { type: 'object', additionalProperties: false, properties: { include_deleted: { type: 'boolean' } } },
        response: {
          200: {
            type: 'object',
            required: ['stream_id', 'registry_version', 'herd', 'horses'],
            properties: { stream_id: { type: 'string' }, registry_version: { type: 'integer' }, herd: herdSchema, horses: { type: 'array', items: horseSchema } },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const [overview, horses] = await Promise.all([registry().browse.stream(stream), registry().browse.horses(stream, { includeDeleted: request.query.include_deleted === true })]);
      return { stream_id: stream, registry_version: overview?.registryVersion ?? 0, herd: herdJson(overview), horses: horses.map((horse) => horseJson(stream, horse)) };
    },
  );

  app.get<{ Params: HorseParams; Querystring: { limit?: number } }>(
    '/api/streams/:stream/horses/:id',
    {
      schema: {
        tags: ['horses'],
        summary: 'one horse with its sightings timeline and exemplar thumbnails',
        params: horseParams,
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: MAX_SIGHTINGS } } },
        response: { 200: horseDetailSchema, ...errors },
      },
    },
    async (request) => {
      const { stream, id } = request.params;
      return horseDetailJson(stream, await registry().browse.horse(stream, id, { sightings: request.query.limit ?? 100 }));
    },
  );

  app.get<{ Params: HorseParams; Querystring: { v?: number } }>(
    '/api/streams/:stream/horses/:id/thumbnail',
    {
      schema: {
        tags: ['horses'],
        summary: "the horse's avatar (JPEG)",
        params: horseParams,
        querystring: { type: 'object', additionalProperties: false, properties: { v: { type: 'integer', minimum: 0, description: 'the horse version (thumbnail_url carries it): cacheable' } } },
        response: errors,
      },
    },
    async (request, reply) => {
      // thumbnail_url names the horse's version, so that URL's picture never changes.
      reply.header('cache-control', request.query.v === undefined ? 'private, no-cache' : 'private, max-age=31536000, immutable');
      const { stream, id } = request.params;
      const wanted = request.query.v;
      let jpeg: Buffer | null | undefined = wanted === undefined ? undefined : avatars.get(stream, id, wanted);
      if (jpeg === undefined) {
        const avatar = await registry().avatar(stream, id);
        // Kept only under the version it belongs to: a URL naming a future version must not pin today's picture.
        if (avatar.jpeg !== null && avatar.version === wanted) avatars.set(stream, id, avatar.version, avatar.jpeg);
        jpeg = avatar.jpeg;
      }
      return sendJpeg(reply, jpeg, `horse ${id} has no thumbnail yet`);
    },
  );

  app.get<{ Params: { stream: string; sighting: number } }>(
    '/api/streams/:stream/sightings/:sighting/thumbnail',
    {
      schema: {
        tags: ['horses'],
        summary: "a sighting's thumbnail (JPEG)",
        params: { type: 'object', required: ['stream', 'sighting'], properties: { ...streamParam, sighting: { type: 'integer', minimum: 1 } } },
        response: errors,
      },
    },
    async (request, reply) => {
      const jpeg = await registry().browse.sightingThumbnail(request.params.stream, request.params.sighting);
      // A sighting's picture never changes: cacheable for good.
      if (jpeg !== null) reply.header('cache-control', 'private, max-age=31536000, immutable');
      return sendJpeg(reply, jpeg, `sighting ${request.params.sighting} has no thumbnail`);
    },
  );

  app.get<{ Params: StreamParams }>(
    '/api/streams/:stream/events',
    { schema: { tags: ['events'], summary: 'live events of the stream (text/event-stream)', params: streamParams, response: { ...errors, 429: errorSchema } } },
    async (request, reply) => openEventStream(request, reply, options.feed, request.params.stream, hooks.onEventStreams),
  );

  // --- changing (scope admin) -------------------------------------------------------------------
  app.patch<{ Params: HorseParams; Body: { name?: string | null; official?: boolean } }>(
    '/api/streams/:stream/horses/:id',
    {
      bodyLimit: API_BODY_LIMIT,
      schema: {
        tags: ['curation'],
        summary: 'rename a horse, or mark it official',
        params: horseParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { name: { type: ['string', 'null'], minLength: 1, maxLength: 200 }, official: { type: 'boolean' } },
        },
        response: { 200: horseSchema, ...changeErrors },
      },
    },
    async (request) => {
      const { stream, id } = request.params;
      const { name, official } = request.body;
      if (name !== undefined) {
        await registry().curation.rename(stream, id, name);
        changed(request, 'rename', { type: 'horse.renamed', stream_id: stream, horse_id: id, name: name === null ? null : name.trim() });
      }
      if (official !== undefined) {
        await registry().curation.setOfficial(stream, id, official);
        changed(request, 'official', { type: 'horse.updated', stream_id: stream, horse_id: id, official });
      }
      return horseJson(stream, await registry().browse.horse(stream, id, { sightings: 0 }));
    },
  );

  app.delete<{ Params: HorseParams }>(
    '/api/streams/:stream/horses/:id',
    { schema: { tags: ['curation'], summary: 'soft delete: hidden, never matched again', params: horseParams, response: changeErrors } },
    async (request, reply) => {
      const { stream, id } = request.params;
      await registry().curation.remove(stream, id);
      changed(request, 'delete', { type: 'horse.deleted', stream_id: stream, horse_id: id });
      return reply.code(204).send();
    },
  );

  app.post<{ Params: StreamParams; Body: { keep: string; drop: string } }>(
    '/api/streams/:stream/merges',
    {
      bodyLimit: API_BODY_LIMIT,
      schema: {
        tags: ['curation'],
        summary: 'merge DROP into KEEP (one transaction; future matches go to KEEP)',
        params: streamParams,
        body: { type: 'object', required: ['keep', 'drop'], additionalProperties: false, properties: { keep: horseIdParam, drop: horseIdParam } },
        response: {
          200: { type: 'object', required: ['change_id', 'keep', 'drop'], properties: { change_id: { type: 'integer' }, keep: horseSchema, drop: { type: 'string' } } },
          ...changeErrors,
        },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const { keep, drop } = request.body;
      const merged = await registry().curation.merge(stream, keep, drop);
      changed(request, 'merge', { type: 'horse.merged', stream_id: stream, keep, drop });
      return { change_id: merged.changeId, keep: horseJson(stream, await registry().browse.horse(stream, keep, { sightings: 0 })), drop };
    },
  );

  app.post<{ Params: StreamParams; Body: { horse: string; sightings: number[] } }>(
    '/api/streams/:stream/splits',
    {
      bodyLimit: API_BODY_LIMIT,
      schema: {
        tags: ['curation'],
        summary: "the picked sightings of a horse become a new horse",
        params: streamParams,
        body: {
          type: 'object',
          required: ['horse', 'sightings'],
          additionalProperties: false,
          properties: { horse: horseIdParam, sightings: { type: 'array', minItems: 1, maxItems: MAX_SIGHTINGS, items: { type: 'integer', minimum: 1 } } },
        },
        response: {
          200: { type: 'object', required: ['change_id', 'horse', 'from'], properties: { change_id: { type: 'integer' }, horse: horseSchema, from: horseSchema } },
          ...changeErrors,
        },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const split = await registry().curation.split(stream, request.body.horse, request.body.sightings);
      changed(request, 'split', { type: 'horse.split', stream_id: stream, from: split.from.id, horse_id: split.created.id, sightings: [...new Set(request.body.sightings)] });
      const view = (id: string) => registry().browse.horse(stream, id, { sightings: 0 });
      return { change_id: split.changeId, horse: horseJson(stream, await view(split.created.id)), from: horseJson(stream, await view(split.from.id)) };
    },
  );

  app.post<{ Params: StreamParams }>(
    '/api/streams/:stream/undo',
    {
      schema: {
        tags: ['curation'],
        summary: 'undo the last merge or split',
        params: streamParams,
        response: {
          200: {
            type: 'object',
            required: ['undone'],
            properties: {
              undone: {
                type: 'object',
                required: ['change_id', 'kind', 'horses'],
                properties: { change_id: { type: 'integer' }, kind: { type: 'string', enum: ['merge', 'split'] }, horses: { type: 'array', items: { type: 'string' } } },
              },
            },
          },
          ...changeErrors,
        },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const undone = await registry().curation.undo(stream);
      changed(request, 'undo', { type: 'change.undone', stream_id: stream, change_id: undone.changeId, kind: undone.kind, horses: undone.horseIds });
      return { undone: { change_id: undone.changeId, kind: undone.kind, horses: undone.horseIds } };
    },
  );

  app.put<{ Params: StreamParams; Body: { expected_count: number | null; official_ids?: string[] } }>(
    '/api/streams/:stream/herd',
    {
      bodyLimit: API_BODY_LIMIT,
      schema: {
        tags: ['curation'],
        summary: 'set the herd size (null: discovery mode) and the official horses',
        params: streamParams,
        body: {
          type: 'object',
          required: ['expected_count'],
          additionalProperties: false,
          properties: { expected_count: { type: ['integer', 'null'], minimum: 1, maximum: 10000 }, official_ids: { type: 'array', maxItems: 10000, items: horseIdParam } },
        },
        response: { 200: { type: 'object', required: ['herd'], properties: { herd: herdSchema } }, ...changeErrors },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const herd = await registry().curation.setHerd(stream, request.body.expected_count, request.body.official_ids);
      changed(request, 'herd', { type: 'herd.changed', stream_id: stream, expected_count: herd.expectedCount, official_ids: herd.officialIds });
      return { herd: herdJson(herd) };
    },
  );
}

const sessionSchema = { type: 'object', required: ['scope', 'auth'], properties: { scope: { type: 'string', enum: ['read', 'admin'] }, auth: { type: 'string', enum: ['token', 'none'] } } } as const;

function sendJpeg(reply: FastifyReply, jpeg: Buffer | null, missing: string): FastifyReply {
  if (jpeg === null) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: missing } });
  return reply.type('image/jpeg').header('content-length', jpeg.byteLength).send(jpeg);
}
