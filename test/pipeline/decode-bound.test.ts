/**
 * A chunk whose file is far longer than its event says (a 2-hour file sent with duration_s 4)
 * is decoded no further than the declared duration plus a margin: it cannot hold a slot for hours.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { runChunkEvents } from '../../src/daemon/run-files.ts';
import { ensureProjectModels } from '../../src/cli/project-models.ts';
import { openPipeline } from '../../src/pipeline/runtime.ts';
import type { PersistedChunk } from '../../src/pipeline/types.ts';
import { makeTempDir, makeTestsrc } from '../video/fixtures.ts';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('paddock-bound-');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('decode bound by the declared duration', () => {
  it(
    'a 60 s file declared as 4 s is decoded for at most 4 s + 2 s',
    async () => {
      const long = await makeTestsrc(dir, 'long.mp4', { width: 320, height: 240, fps: 10, seconds: 60 });
      const config = loadConfig({ PADDOCK_DATA_DIR: path.join(dir, 'data'), PADDOCK_LOG_LEVEL: 'silent', PADDOCK_EP: 'cpu', PADDOCK_SAMPLE_FPS: '5' });
      const logger = silentLogger();
      await ensureProjectModels(config, logger);
      const persisted: PersistedChunk[] = [];
      const pipeline = await openPipeline({ config, logger, migrations: 'apply' });
      try {
        const event = { streamId: 'bound', chunkId: 'bound-1', sequence: 1, uri: long, startTime: new Date('2026-12-01T10:00:00Z'), durationS: 4 };
        const outcomes = await runChunkEvents({
          config,
          logger,
          pipeline,
          events: [event],
          onStreamEvent: (emitted) => {
            if (emitted.type === 'chunk.processed') persisted.push(emitted.persisted as PersistedChunk);
          },
        });
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['acked']);
        expect(persisted).toHaveLength(1);
        // 5 frames per second over 6 s at most, not 300 over the whole file.
        expect(persisted[0]!.outcome.framesDecoded).toBeGreaterThanOrEqual(20);
        expect(persisted[0]!.outcome.framesDecoded).toBeLessThanOrEqual(31);
      } finally {
        await pipeline.close();
      }
    },
    120_000,
  );
});
