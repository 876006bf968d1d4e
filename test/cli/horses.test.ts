import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { openRegistry } from '../../src/registry/index.ts';
import { runCli } from '../helpers/cli.ts';
import { chunk, newHorseUpdate } from '../helpers/registry-fixtures.ts';
import { createScratchDatabase, serviceAvailable, TEST_NATS_URL, TEST_REDIS_URL, uniqueId } from '../helpers/services.ts';

const postgresUp = await serviceAvailable('postgres');
const redisUp = await serviceAvailable('redis');

describe('paddock horses (embedded database)', () => {
  let env: Record<string, string>;
  const stream = 'barn-1';

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'paddock-cli-'));
    env = { PADDOCK_DATA_DIR: dataDir };
    const store = await openRegistry({ config: loadConfig(env), logger: silentLogger(), migrations: 'apply' });
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
    await store.saveChunk(chunk(stream, 1), [newHorseUpdate(1, { thumbnail: jpeg, thumbnailQuality: 5 }), newHorseUpdate(2)]);
    await store.close();
  });

  it('lists the registry as JSON in the contract shape', async () => {
    const result = await runCli(['horses', 'list', '--stream', stream, '--json'], env);
    expect(result.code).toBe(0);
    const horses = JSON.parse(result.stdout);
    expect(horses).toHaveLength(2);
    expect(Object.keys(horses[0]).sort()).toEqual(
      ['color', 'confidence_score', 'first_detected', 'id', 'last_seen', 'name', 'thumbnail_bytes', 'total_detections', 'tracking_id'].sort(),
    );
    expect(horses[0]).toMatchObject({ id: 'horse_001', tracking_id: 1, name: null, thumbnail_bytes: 9, total_detections: 10 });
  });

  it('renames, writes a thumbnail, merges and prunes', async () => {
    expect((await runCli(['horses', 'rename', '--stream', stream, 'horse_001', 'Bella'], env)).code).toBe(0);
    const table = await runCli(['horses', 'list', '--stream', stream], env);
    expect(table.stdout).toMatch(/horse_001\s+1\s+Bella/);

    const out = path.join(await mkdtemp(path.join(os.tmpdir(), 'paddock-thumb-')), 'bella.jpg');
    expect((await runCli(['horses', 'thumbnail', '--stream', stream, 'horse_001', '-o', out], env)).code).toBe(0);
    expect((await readFile(out))[0]).toBe(0xff);

    const merged = await runCli(['horses', 'merge', '--stream', stream, 'horse_001', 'horse_002'], env);
    expect(merged.code).toBe(0);
    const after = JSON.parse((await runCli(['horses', 'list', '--stream', stream, '--json'], env)).stdout);
    expect(after.map((h: { id: string }) => h.id)).toEqual(['horse_001']);
    expect(after[0].total_detections).toBe(20);

    const pruned = await runCli(['horses', 'prune', '--inactive-days', '1'], env);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/dropped 1 thumbnail/);
  });

  it('exits 2 with one clear line for an unknown horse, bad usage or configuration', async () => {
    const unknown = await runCli(['horses', 'thumbnail', '--stream', stream, 'horse_404', '-o', '/tmp/x.jpg'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe(`paddock: unknown horse horse_404 in stream ${stream}`);
    expect((await runCli(['horses', 'list'], env)).code).toBe(2);
    const badConfig = await runCli(['horses', 'list', '--stream', stream], { ...env, PADDOCK_CACHE_TTL_S: '-1' });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/PADDOCK_CACHE_TTL_S/);
    const pruneNow = await runCli(['horses', 'prune', '--inactive-days', '0'], env);
    expect(pruneNow.code).toBe(2);
    expect(pruneNow.stderr).toMatch(/--inactive-days/);
    const control = await runCli(['horses', 'rename', '--stream', stream, 'horse_002', 'Bad\u001b[31mName'], env);
    expect(control.code).toBe(2);
    expect(control.stderr.trim()).toBe('paddock: a horse name must not contain control characters');
    const badStream = await runCli(['horses', 'list', '--stream', 'barn 1/../x'], env);
    expect(badStream.code).toBe(2);
    expect(badStream.stderr).toMatch(/--stream/);
    const badProcess = await runCli(['process', 'x.mp4', '--stream', 'no spaces'], env);
    expect(badProcess.code).toBe(2);
    const empty = await runCli(['horses', 'list', '--stream', 'nobody', '--json'], env);
    expect(empty.stdout.trim()).toBe('[]');
  });
});

describe.skipIf(!(postgresUp && redisUp))('paddock migrate + horses on PostgreSQL and Redis', () => {
  let scratch: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    scratch = await createScratchDatabase();
  });
  afterAll(async () => {
    await scratch?.drop();
  });

  it('refuses to work on an unmigrated database, then migrates once', async () => {
    const env = { DATABASE_URL: scratch.url, REDIS_URL: TEST_REDIS_URL };
    const stream = uniqueId('cli');
    const before = await runCli(['horses', 'list', '--stream', stream], env);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/migration\(s\) pending.*paddock migrate/);
    const first = await runCli(['migrate'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/applied 001_horses/);
    const second = await runCli(['migrate'], env);
    expect(second.stdout.trim()).toBe('database is up to date');
    expect((await runCli(['horses', 'list', '--stream', stream, '--json'], env)).stdout.trim()).toBe('[]');
  });
});

describe.skipIf(!(await serviceAvailable('nats')))('paddock horses merge announces the merge', () => {
  it('publishes horse.merged on the stream events subject', async () => {
    const { connect } = await import('@nats-io/transport-node');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'paddock-merge-'));
    const prefix = uniqueId('m').replace(/-/g, '_');
    const env = { PADDOCK_DATA_DIR: dataDir, NATS_URL: TEST_NATS_URL, PADDOCK_NATS_SUBJECT_PREFIX: prefix };
    const store = await openRegistry({ config: loadConfig(env), logger: silentLogger(), migrations: 'apply' });
    await store.saveChunk(chunk('yard', 1), [newHorseUpdate(1), newHorseUpdate(2)]);
    await store.close();
    const nc = await connect({ servers: TEST_NATS_URL });
    try {
      const subscription = nc.subscribe(`${prefix}.events.yard`, { max: 1 });
      const received = (async () => {
        for await (const message of subscription) return message.json<Record<string, unknown>>();
        return null;
      })();
      expect((await runCli(['horses', 'merge', '--stream', 'yard', 'horse_001', 'horse_002'], env)).code).toBe(0);
      expect(await received).toEqual({ type: 'horse.merged', stream_id: 'yard', keep: 'horse_001', drop: 'horse_002' });
    } finally {
      await nc.close();
    }
  });
});
