import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_EVENT_STREAMS_PER_CLIENT } from '../../src/http/api/event-stream.ts';
import { ApiAuth } from '../../src/http/index.ts';
import type { PaddockEvent } from '../../src/sources/index.ts';
import { serviceAvailable } from '../helpers/services.ts';
import { ADMIN_TOKEN, READ_TOKEN, startApiFixture, type ApiFixture } from './api-fixture.ts';

const STREAM = 'cam-api';

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
const postgresUp = await serviceAvailable('postgres');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every change route, with a valid body. */
const CHANGES: Array<[string, string, unknown]> = [
  ['PATCH', `/api/streams/${STREAM}/horses/horse_001`, { name: 'Nope' }],
  ['DELETE', `/api/streams/${STREAM}/horses/horse_001`, undefined],
  ['POST', `/api/streams/${STREAM}/merges`, { keep: 'horse_001', drop: 'horse_002' }],
  ['POST', `/api/streams/${STREAM}/splits`, { horse: 'horse_001', sightings: [1] }],
  ['POST', `/api/streams/${STREAM}/undo`, undefined],
  ['PUT', `/api/streams/${STREAM}/herd`, { expected_count: 3 }],
];

describe.skipIf(!postgresUp)('registry API', () => {
  let api: ApiFixture;
  const call = async (method: string, path: string, options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {}) => {
    const token = options.token === undefined ? ADMIN_TOKEN : options.token;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${api.url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const type = response.headers.get('content-type') ?? '';
    const body = type.includes('json') ? ((await response.json()) as Json) : null;
    return { status: response.status, body: body as Json, response };
  };
  const horses = async () => (await call('GET', `/api/streams/${STREAM}/horses`, { token: READ_TOKEN })).body;
  const horse = async (id: string) => call('GET', `/api/streams/${STREAM}/horses/${id}`, { token: READ_TOKEN });

  beforeAll(async () => {
    api = await startApiFixture({ streamId: STREAM });
  });
  afterAll(async () => {
    await api?.close();
  });

  describe('authentication', () => {
    it('refuses a request without a token, with a wrong token or a malformed header (401)', async () => {
      for (const path of ['/api/streams', `/api/streams/${STREAM}/horses`, `/api/streams/${STREAM}/horses/horse_001/thumbnail`, `/api/streams/${STREAM}/events`]) {
        expect((await call('GET', path, { token: null })).status, path).toBe(401);
        expect((await call('GET', path, { token: 'not-a-configured-token-at-all' })).status, path).toBe(401);
      }
      for (const [method, path, body] of CHANGES) {
        expect((await call(method, path, { token: null, body })).status, `${method} ${path}`).toBe(401);
        expect((await call(method, path, { token: 'not-a-configured-token-at-all', body })).status, `${method} ${path}`).toBe(401);
      }
      expect((await call('GET', `/api/streams/${STREAM}/horses/horse_001`, { token: null })).status).toBe(401);
      expect((await call('GET', `/api/streams/${STREAM}/sightings/1/thumbnail`, { token: null })).status).toBe(401);
      expect((await call('GET', '/api/session', { token: null })).status).toBe(401);
      const malformed = await call('GET', '/api/streams', { token: null, headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
      expect(malformed.status).toBe(401);
      expect(malformed.response.headers.get('www-authenticate')).toContain('Bearer');
    });

    it('lets a read token read but not change (403)', async () => {
      expect((await call('GET', '/api/streams', { token: READ_TOKEN })).status).toBe(200);
      for (const [method, path, body] of CHANGES) {
        const answer = await call(method, path, { token: READ_TOKEN, body });
        expect(answer.status, `${method} ${path}`).toBe(403);
        expect(answer.body.error.code).toBe('FORBIDDEN');
      }
      expect((await horses()).horses.map((h: Json) => h.name)).toEqual([null, null, null]);
    });

    it('keeps /metrics, /healthz, /readyz, the page and the OpenAPI document open', async () => {
      for (const path of ['/metrics', '/healthz', '/readyz', '/', '/assets/app.js', '/api/openapi.json']) {
        expect((await call('GET', path, { token: null })).status, path).toBe(200);
      }
      const page = await fetch(`${api.url}/`);
      expect(page.headers.get('content-type')).toContain('text/html');
      // Only our own files and the page's inline boot script (by hash) may run.
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
      expect(csp).toContain("frame-ancestors 'none'");
      // Assets are named by their content hash, and cacheable for good under that name.
      const html = await page.text();
      const appUrl = /src="(\/assets\/app\.js\?v=[0-9a-f]{16})"/.exec(html)![1]!;
      const app = await fetch(`${api.url}${appUrl}`);
      expect(app.headers.get('cache-control')).toContain('immutable');
      expect(app.headers.get('content-type')).toContain('javascript');
      const revalidated = await fetch(`${api.url}${appUrl}`, { headers: { 'if-none-match': app.headers.get('etag')! } });
      expect(revalidated.status).toBe(304);
      expect((await fetch(`${api.url}/assets/app.js`)).headers.get('cache-control')).toBe('no-cache');
      expect((await fetch(`${api.url}/assets/nothing.js`)).status).toBe(404);
      expect((await fetch(`${api.url}/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
    });

    it('exchanges a token for an HttpOnly SameSite=Strict session cookie, which then authenticates', async () => {
      expect((await call('POST', '/api/session', { token: null, body: { token: 'wrong-token-wrong-token' } })).status).toBe(401);
      const login = await call('POST', '/api/session', { token: null, body: { token: READ_TOKEN } });
      expect(login.status).toBe(200);
      expect(login.body).toEqual({ scope: 'read', auth: 'token' });
      const cookie = login.response.headers.get('set-cookie')!;
      expect(cookie).toMatch(/paddock_session=/);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Strict/i);
      const session = cookie.split(';')[0]!;
      expect((await call('GET', '/api/session', { token: null, headers: { cookie: session } })).body).toEqual({ scope: 'read', auth: 'token' });
      expect((await call('GET', '/api/streams', { token: null, headers: { cookie: session } })).status).toBe(200);
      expect((await call('PATCH', `/api/streams/${STREAM}/horses/horse_001`, { token: null, headers: { cookie: session }, body: { name: 'x' } })).status).toBe(403);
      const logout = await call('DELETE', '/api/session', { token: null, headers: { cookie: session } });
      expect(logout.status).toBe(204);
      expect(logout.response.headers.get('set-cookie')).toMatch(/paddock_session=;.*Expires=Thu, 01 Jan 1970/i);
      expect((await call('POST', '/api/session', { token: null, body: {} })).status).toBe(400);
      expect((await call('POST', '/api/session', { token: null, body: { token: READ_TOKEN, extra: 1 } })).status).toBe(400);
    });

    it('without any token configured answers loopback clients only', () => {
      const open = new ApiAuth([]);
      const request = (remoteAddress: string) => ({ socket: { remoteAddress }, headers: {} }) as never;
      expect(open.access(request('127.0.0.1'))).toEqual({ scope: 'admin', auth: 'none' });
      expect(open.access(request('::1'))).toEqual({ scope: 'admin', auth: 'none' });
      expect(open.access(request('10.1.2.3'))).toMatchObject({ denied: 403 });
      const closed = new ApiAuth([{ scope: 'read', token: READ_TOKEN }]);
      expect(closed.access(request('127.0.0.1'))).toMatchObject({ denied: 401 });
    });
  });

  describe('reading', () => {
    it('serves an OpenAPI document generated from the route schemas', async () => {
      const doc = (await call('GET', '/api/openapi.json', { token: null })).body;
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/api/streams', '/api/streams/{stream}/horses', '/api/streams/{stream}/horses/{id}', '/api/streams/{stream}/merges', '/api/streams/{stream}/splits']),
      );
      expect(doc.paths['/api/streams/{stream}/horses/{id}'].patch.requestBody).toBeDefined();
    });

    it('lists streams with horse counts, the last chunk and the lag', async () => {
      const { streams } = (await call('GET', '/api/streams', { token: READ_TOKEN })).body;
      const stream = streams.find((s: Json) => s.stream_id === STREAM);
      expect(stream).toMatchObject({ horses: 3, last_chunk: { sequence: 3, chunk_id: `${STREAM}-chunk-0003` }, herd: null });
      expect(stream.lag_s).toBeGreaterThanOrEqual(0);
    });

    it("lists a stream's horses with thumbnail URLs and who is present in the latest chunk", async () => {
      const list = await horses();
      expect(list.horses.map((h: Json) => [h.id, h.status, h.total_detections])).toEqual([
        ['horse_001', 'present', 30],
        ['horse_002', 'away', 20],
        ['horse_003', 'present', 20],
      ]);
      const thumb = await fetch(`${api.url}${list.horses[0].thumbnail_url}`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
      expect(thumb.status).toBe(200);
      expect(thumb.headers.get('content-type')).toBe('image/jpeg');
      const jpeg = Buffer.from(await thumb.arrayBuffer());
      expect(jpeg.byteLength).toBeGreaterThan(100);
      // The versioned URL's picture is served again (from memory now); an unversioned URL and a
      // URL naming a version the horse does not have still get the horse's current avatar.
      const url = list.horses[0].thumbnail_url as string;
      const again = await fetch(`${api.url}${url}`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
      expect(Buffer.from(await again.arrayBuffer()).equals(jpeg)).toBe(true);
      for (const other of [url.replace(/\?v=\d+$/, ''), url.replace(/\?v=\d+$/, '?v=999')]) {
        const response = await fetch(`${api.url}${other}`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
        expect(response.status).toBe(200);
        expect(Buffer.from(await response.arrayBuffer()).equals(jpeg)).toBe(true);
      }
    });

    it('gives one horse with its sightings timeline and exemplars', async () => {
      const { body, status } = await horse('horse_001');
      expect(status).toBe(200);
      expect(body.sightings.map((s: Json) => s.sequence)).toEqual([3, 2, 1]);
      expect(body.sightings[0]).toMatchObject({ chunk_id: `${STREAM}-chunk-0003`, detections: 10, box: { x: 10, y: 20, w: 100, h: 80 } });
      expect(body.exemplars).toHaveLength(3);
      const sightingThumb = await fetch(`${api.url}${body.sightings[0].thumbnail_url}`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
      expect(sightingThumb.headers.get('content-type')).toBe('image/jpeg');
    });

    it('answers 404 for an unknown horse and 400 for malformed identifiers', async () => {
      expect((await horse('horse_999')).status).toBe(404);
      expect((await call('GET', `/api/streams/${STREAM}/horses/horse_999/thumbnail`, { token: READ_TOKEN })).status).toBe(404);
      expect((await call('GET', `/api/streams/bad%20stream/horses`, { token: READ_TOKEN })).status).toBe(400);
      expect((await call('GET', `/api/streams/${STREAM}/horses/horse_001?limit=0`, { token: READ_TOKEN })).status).toBe(400);
      expect((await call('GET', `/api/streams/${STREAM}/sightings/abc/thumbnail`, { token: READ_TOKEN })).status).toBe(400);
    });
  });

  describe('changing', () => {
    it('renames a horse, keeps the name as plain text and moves the registry version', async () => {
      const before = (await horses()).registry_version;
      const name = '<img src=x onerror=alert(1)> Bella';
      const renamed = await call('PATCH', `/api/streams/${STREAM}/horses/horse_001`, { body: { name } });
      expect(renamed.status).toBe(200);
      expect(renamed.body.name).toBe(name);
      const after = await horses();
      expect(after.registry_version).toBeGreaterThan(before);
      expect(after.horses[0].name).toBe(name);
    });

    it('refuses invalid changes with 400, unknown horses with 404 and oversized bodies with 413', async () => {
      const patch = (body: unknown) => call('PATCH', `/api/streams/${STREAM}/horses/horse_001`, { body });
      expect((await patch({ name: '' })).status).toBe(400);
      expect((await patch({ name: 'x'.repeat(201) })).status).toBe(400);
      expect((await patch({ name: 'bad\u0007name' })).status).toBe(400);
      expect((await patch({})).status).toBe(400);
      expect((await patch({ name: 'ok', colour: 'red' })).status).toBe(400);
      expect((await patch({ official: 'yes' })).status).toBe(400);
      expect((await call('PATCH', `/api/streams/${STREAM}/horses/horse_404`, { body: { name: 'Ghost' } })).status).toBe(404);
      expect((await call('POST', `/api/streams/${STREAM}/merges`, { body: { keep: 'horse_001' } })).status).toBe(400);
      expect((await call('POST', `/api/streams/${STREAM}/merges`, { body: { keep: 'horse_001', drop: 'horse_001' } })).status).toBe(400);
      expect((await call('POST', `/api/streams/${STREAM}/splits`, { body: { horse: 'horse_001', sightings: [] } })).status).toBe(400);
      expect((await call('PUT', `/api/streams/${STREAM}/herd`, { body: { expected_count: 0 } })).status).toBe(400);
      expect((await call('PUT', `/api/streams/${STREAM}/herd`, { body: { expected_count: 2, official_ids: ['horse_404'] } })).status).toBe(404);
      const huge = await call('PATCH', `/api/streams/${STREAM}/horses/horse_001`, { body: { name: 'x'.repeat(100_000) } });
      expect(huge.status).toBe(413);
      const notJson = await fetch(`${api.url}/api/streams/${STREAM}/merges`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/plain' },
        body: 'keep=horse_001&drop=horse_002',
      });
      // A form post (what another site could make a browser send) is refused.
      expect([400, 415]).toContain(notJson.status);
      expect((await horses()).horses).toHaveLength(3);
    });

    it('merges B into A in one change, and undoes it', async () => {
      const merged = await call('POST', `/api/streams/${STREAM}/merges`, { body: { keep: 'horse_001', drop: 'horse_002' } });
      expect(merged.status).toBe(200);
      expect(merged.body.keep).toMatchObject({ id: 'horse_001', total_detections: 50 });
      expect((await horses()).horses.map((h: Json) => h.id)).toEqual(['horse_001', 'horse_003']);
      expect((await horse('horse_002')).status).toBe(404);
      const keep = (await horse('horse_001')).body;
      expect(keep.sightings).toHaveLength(5);
      expect(keep.merged_from).toEqual(['horse_002']);
      // The tracker's next load has one horse fewer: future matches go to A.
      const snapshot = await api.store.load(STREAM);
      expect(snapshot.horses.map((h) => h.id).sort()).toEqual(['horse_001', 'horse_003']);

      const undone = await call('POST', `/api/streams/${STREAM}/undo`);
      expect(undone.body.undone).toMatchObject({ kind: 'merge', horses: ['horse_001', 'horse_002'] });
      const after = await horses();
      expect(after.horses.map((h: Json) => [h.id, h.total_detections])).toEqual([
        ['horse_001', 30],
        ['horse_002', 20],
        ['horse_003', 20],
      ]);
      expect((await horse('horse_002')).body.sightings).toHaveLength(2);
      expect((await horse('horse_001')).body.sightings).toHaveLength(3);
      const again = await call('POST', `/api/streams/${STREAM}/undo`);
      expect(again.status).toBe(409);
    });

    it('splits picked sightings into a new horse, and undoes it', async () => {
      const before = (await horse('horse_001')).body;
      const picked = [before.sightings[0].id];
      expect((await call('POST', `/api/streams/${STREAM}/splits`, { body: { horse: 'horse_001', sightings: before.sightings.map((s: Json) => s.id) } })).status).toBe(400);
      const foreign = (await horse('horse_003')).body.sightings[0].id;
      expect((await call('POST', `/api/streams/${STREAM}/splits`, { body: { horse: 'horse_001', sightings: [foreign] } })).status).toBe(400);

      const split = await call('POST', `/api/streams/${STREAM}/splits`, { body: { horse: 'horse_001', sightings: picked } });
      expect(split.status).toBe(200);
      expect(split.body.horse).toMatchObject({ id: 'horse_004', tracking_id: 4, total_detections: 10 });
      expect(split.body.from).toMatchObject({ id: 'horse_001', total_detections: 20 });
      expect(split.body.horse.thumbnail_url).not.toBeNull();
      expect((await horse('horse_004')).body.sightings.map((s: Json) => s.id)).toEqual(picked);
      const snapshot = await api.store.load(STREAM);
      const created = snapshot.horses.find((h) => h.id === 'horse_004')!;
      expect(created.features.mean.length).toBe(16);

      const undone = await call('POST', `/api/streams/${STREAM}/undo`);
      expect(undone.body.undone).toMatchObject({ kind: 'split', horses: ['horse_001', 'horse_004'] });
      expect((await horse('horse_004')).status).toBe(404);
      expect((await horse('horse_001')).body).toMatchObject({ total_detections: 30 });
      expect((await horse('horse_001')).body.sightings).toHaveLength(3);
    });

    it('marks horses official and sets the herd size', async () => {
      const official = await call('PATCH', `/api/streams/${STREAM}/horses/horse_003`, { body: { official: true } });
      expect(official.body.official).toBe(true);
      const herd = await call('PUT', `/api/streams/${STREAM}/herd`, { body: { expected_count: 3 } });
      expect(herd.body.herd).toEqual({ expected_count: 3, official_ids: ['horse_003'] });
      expect((await api.store.load(STREAM)).herd).toEqual({ expectedCount: 3, officialIds: ['horse_003'] });
      const cleared = await call('PUT', `/api/streams/${STREAM}/herd`, { body: { expected_count: null, official_ids: [] } });
      expect(cleared.body.herd).toBeNull();
    });

    it('soft-deletes a horse: hidden, never loaded for matching, listed only on request', async () => {
      expect((await call('DELETE', `/api/streams/${STREAM}/horses/horse_002`)).status).toBe(204);
      expect((await horses()).horses.map((h: Json) => h.id)).not.toContain('horse_002');
      const all = (await call('GET', `/api/streams/${STREAM}/horses?include_deleted=true`, { token: READ_TOKEN })).body;
      expect(all.horses.find((h: Json) => h.id === 'horse_002').status).toBe('deleted');
      expect((await api.store.load(STREAM)).horses.map((h) => h.id)).not.toContain('horse_002');
      expect((await call('DELETE', `/api/streams/${STREAM}/horses/horse_002`)).status).toBe(404);
    });
  });

  it('prunes sightings past their retention, and only those', async () => {
    const seededAt = new Date(Date.UTC(2026, 10, 20, 10, 0, 30)); // chunk 3's sightings end 9 s later
    const kept = await api.store.prune(365, new Date(seededAt.getTime() + 2 * 86_400_000), 7);
    expect(kept.sightingsDropped).toBe(0);
    const dropped = await api.store.prune(365, new Date(seededAt.getTime() + 8 * 86_400_000), 7);
    expect(dropped.sightingsDropped).toBeGreaterThan(0);
    expect((await horse('horse_001')).body.sightings).toEqual([]);
    expect((await horse('horse_001')).body.total_detections).toBe(30);
  });

  it('streams live events (SSE) of the stream, and only of that stream', async () => {
    const controller = new AbortController();
    const response = await fetch(`${api.url}/api/streams/${STREAM}/events`, { headers: { authorization: `Bearer ${READ_TOKEN}` }, signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const received: string[] = [];
    const decoder = new TextDecoder();
    const until = async (text: string) => {
      while (!received.join('').includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('event stream ended');
        received.push(decoder.decode(value));
      }
    };
    await until(': stream');
    api.hub.emit({ type: 'horse.deleted', stream_id: 'another-stream', horse_id: 'horse_001' } as PaddockEvent);
    await call('PATCH', `/api/streams/${STREAM}/horses/horse_003`, { body: { name: 'Storm' } });
    await until('horse.renamed');
    expect(api.heard.eventStreams.at(-1)).toBeGreaterThanOrEqual(1);
    const text = received.join('');
    expect(text).toContain('event: horse.renamed');
    expect(text).toContain('"name":"Storm"');
    expect(text).not.toContain('another-stream');
    controller.abort();
  });

  it('refuses a client more than MAX_EVENT_STREAMS_PER_CLIENT event streams (429, Retry-After) until it closes one', async () => {
    const openOne = async () => {
      const controller = new AbortController();
      const response = await fetch(`${api.url}/api/streams/${STREAM}/events`, { headers: { authorization: `Bearer ${READ_TOKEN}` }, signal: controller.signal });
      return { response, controller };
    };
    const streams = [];
    for (let i = 0; i < MAX_EVENT_STREAMS_PER_CLIENT; i += 1) streams.push(await openOne());
    expect(streams.map(({ response }) => response.status)).toEqual(streams.map(() => 200));
    const refused = await openOne();
    expect(refused.response.status).toBe(429);
    expect(refused.response.headers.get('retry-after')).toBe('5');
    expect(((await refused.response.json()) as Json).error.code).toBe('TOO_MANY_EVENT_STREAMS');
    streams[0]!.controller.abort();
    await waitFor(() => api.heard.eventStreams.at(-1) === MAX_EVENT_STREAMS_PER_CLIENT - 1);
    const again = await openOne();
    expect(again.response.status).toBe(200);
    for (const { controller } of [...streams.slice(1), again]) controller.abort();
    await waitFor(() => api.heard.eventStreams.at(-1) === 0);
  });

  it('drops an event stream whose client stops reading, instead of buffering for it', async () => {
    const url = new URL(api.url);
    const socket = connect(Number(url.port), url.hostname);
    socket.write(`GET /api/streams/${STREAM}/events HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${READ_TOKEN}\r\n\r\n`);
    // Read the response head, then never again.
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.pause();
    expect(api.heard.eventStreams.at(-1)).toBe(1);
    const name = 'x'.repeat(60_000);
    for (let i = 0; i < 2_000 && api.heard.eventStreams.at(-1) !== 0; i += 1) {
      api.hub.emit({ type: 'horse.renamed', stream_id: STREAM, horse_id: 'horse_001', name } as unknown as PaddockEvent);
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(api.heard.eventStreams.at(-1)).toBe(0);
    socket.destroy();
  });

  it('tells the metrics about each answered request (by route pattern) and each change', () => {
    expect(api.heard.requests).toContain('GET /api/streams/:stream/horses 200');
    expect(api.heard.requests).toContain('PATCH /api/streams/:stream/horses/:id 403');
    expect(api.heard.requests).toContain('GET /api/streams 401');
    expect(new Set(api.heard.changes)).toEqual(new Set(['rename', 'merge', 'undo', 'split', 'official', 'herd', 'delete']));
  });
});
