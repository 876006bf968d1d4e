/**
 * openPipeline never builds models (that is the CLI's job, src/cli/project-models.ts): a model
 * file that is not there fails the start clearly, naming the variables to set.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { ensureProjectModels } from '../../src/cli/project-models.ts';
import { openPipeline } from '../../src/pipeline/runtime.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'paddock-runtime-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openPipeline', () => {
  it('a missing model file is MODEL_MISSING naming PADDOCK_DETECTOR_MODEL/PADDOCK_REID_MODEL, before the registry opens', async () => {
    const config = loadConfig({
      PADDOCK_DATA_DIR: path.join(dir, 'data'),
      PADDOCK_DETECTOR_MODEL: path.join(dir, 'models', 'absent_detector.onnx'),
      PADDOCK_REID_MODEL: path.join(dir, 'models', 'absent_reid.onnx'),
      PADDOCK_LOG_LEVEL: 'silent',
      PADDOCK_EP: 'cpu',
    });
    const opening = openPipeline({ config, logger: silentLogger(), migrations: 'apply' });
    await expect(opening).rejects.toMatchObject({ code: 'MODEL_MISSING' });
    await expect(opening).rejects.toThrow(/PADDOCK_DETECTOR_MODEL\/PADDOCK_REID_MODEL/);
    // Nothing was built into the models' folder and no registry was created.
    expect(await readdir(dir)).toEqual([]);
  });

  it('closing waits for a chunk attempt cut short by a shutdown to record its end: a shutdown never counts as a crash', async () => {
    const config = loadConfig({ PADDOCK_DATA_DIR: path.join(dir, 'close'), PADDOCK_LOG_LEVEL: 'silent', PADDOCK_EP: 'cpu' });
    await ensureProjectModels(config, silentLogger());
    const pipeline = await openPipeline({ config, logger: silentLogger(), migrations: 'apply' });
    // The database is slow to record the attempt's end, as it can be under load.
    const recordEnd = pipeline.store.attemptEnded.bind(pipeline.store);
    pipeline.store.attemptEnded = async (streamId, chunkId) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return recordEnd(streamId, chunkId);
    };
    let started!: () => void;
    const attemptCounted = new Promise<void>((resolve) => (started = resolve));
    const recordStart = pipeline.store.attemptStarted.bind(pipeline.store);
    pipeline.store.attemptStarted = async (streamId, chunkId) => {
      await recordStart(streamId, chunkId);
      started();
    };
    const registry = await pipeline.store.load('close');
    const stopped = new AbortController();
    stopped.abort(); // the actor was stopped by a shutdown as the chunk began
    const event = { streamId: 'close', chunkId: 'close-1', sequence: 1, uri: path.join(dir, 'never-read.mp4'), startTime: new Date(), durationS: 2 };
    // The stopped actor does not wait for its effect: the daemon closes the pipeline next.
    const attempt = pipeline.effects.processChunk({ streamId: 'close', event, registry, signal: stopped.signal }).then(
      () => 'finished',
      (error: Error) => error.message,
    );
    await attemptCounted;
    await pipeline.close();
    expect(await attempt).toMatch(/aborted/);

    const reopened = await openPipeline({ config, logger: silentLogger(), migrations: 'apply' });
    try {
      expect(await reopened.store.interruptedAttempts('close', 'close-1')).toBe(0);
    } finally {
      await reopened.close();
    }
  }, 60_000);
});
