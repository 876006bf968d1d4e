/**
 * A registry API on a scratch PostgreSQL database, seeded with one stream through the real save
 * path (three chunks, three horses, sighting thumbnails), served by the real HTTP server.
 */
import sharp from 'sharp';
import type { ApiToken } from '../../src/config/index.ts';
import { createRegistryServer, type HttpServer } from '../../src/http/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { MemoryHotCache } from '../../src/registry/memory-cache.ts';
import { SqlRegistryStore } from '../../src/registry/sql-store.ts';
import { createEventPublisherTo, EventHub } from '../../src/sources/index.ts';
import type { HorseChunkUpdate } from '../../src/registry/types.ts';
import { migratedScratchDatabase } from '../helpers/migrated-database.ts';
import { chunk, featureBank, newHorseUpdate } from '../helpers/registry-fixtures.ts';

export const READ_TOKEN = 'read-token-0123456789abcdef';
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

export interface ApiFixture {
  url: string;
  store: SqlRegistryStore;
  hub: EventHub;
  server: HttpServer;
  /** What the API's metric hooks heard. */
  heard: { requests: string[]; changes: string[]; eventStreams: number[] };
  close(): Promise<void>;
}

export async function jpeg(color: { r: number; g: number; b: number }, size = 48): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: color } }).jpeg().toBuffer();
}

/**
 * Stream `streamId`: chunk 1 sees horses 1, 2, 3 (new); chunk 2 sees 1 and 2; chunk 3 sees 1 and 3.
 * Every sighting has a thumbnail; horse 1's appearance is the same vector in every chunk.
 */
export async function seedStream(store: SqlRegistryStore, streamId: string): Promise<void> {
  const dim = 16;
  const at = (sequence: number) => new Date(Date.UTC(2026, 10, 20, 10, 0, sequence * 10));
  const thumb = await jpeg({ r: 120, g: 80, b: 40 });
  const saved = new Map<string, number>();
  const seen = async (sequence: number, trackingIds: number[]) => {
    const updates: HorseChunkUpdate[] = trackingIds.map((trackingId) => {
      const base = newHorseUpdate(trackingId, { dim, seenAt: at(sequence), features: featureBank(dim, trackingId * 100 + sequence), sightingThumbnail: thumb });
      const version = saved.get(base.id);
      return version === undefined ? { ...base, thumbnail: thumb, thumbnailQuality: 1 } : { ...base, isNew: false, baseVersion: version };
    });
    const result = await store.saveChunk(chunk(streamId, sequence), updates);
    for (const horse of result.horses) saved.set(horse.id, horse.version);
  };
  await seen(1, [1, 2, 3]);
  await seen(2, [1, 2]);
  await seen(3, [1, 3]);
}

export async function startApiFixture(options: { tokens?: ApiToken[]; streamId: string }): Promise<ApiFixture> {
  const { db, close: closeDb } = await migratedScratchDatabase();
  const logger = silentLogger();
  const store = new SqlRegistryStore(db, new MemoryHotCache({ ttlSeconds: 300, indexSize: 50 }), logger, { maxExemplars: 8 });
  await seedStream(store, options.streamId);
  const hub = new EventHub(logger);
  const events = createEventPublisherTo((event) => hub.emit(event), { logger });
  const tokens = options.tokens ?? [
    { scope: 'read', token: READ_TOKEN },
    { scope: 'admin', token: ADMIN_TOKEN },
  ];
  const heard = { requests: [] as string[], changes: [] as string[], eventStreams: [] as number[] };
  const server = createRegistryServer({
    store,
    tokens,
    port: 0,
    host: '127.0.0.1',
    logger,
    feed: hub,
    events,
    hooks: {
      onRequest: (route, method, status) => heard.requests.push(`${method} ${route} ${status}`),
      onChange: (change) => heard.changes.push(change),
      onEventStreams: (open) => heard.eventStreams.push(open),
    },
  });
  const { port } = await server.start();
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    hub,
    server,
    heard,
    async close() {
      await server.stop();
      await store.settled();
      await closeDb();
    },
  };
}
