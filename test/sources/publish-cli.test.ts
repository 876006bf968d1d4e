import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { runCli } from '../helpers/cli.ts';
import { TEST_NATS_URL, serviceAvailable } from '../helpers/services.ts';
import { makeTempDir, makeTestsrc } from '../video/fixtures.ts';
import { connectTestNats } from './helpers.ts';

const natsUp = await serviceAvailable('nats');

describe('paddock publish', () => {
  let dir: string;
  let video: string;

  beforeAll(async () => {
    dir = await makeTempDir('paddock-publish-');
    video = await makeTestsrc(dir, 'chunk_0003.mp4', { width: 64, height: 48, fps: 10, seconds: 2 });
  });

  it('refuses bad usage with exit 2 and one line', async () => {
    const [badStream, badSequence, missing] = await Promise.all([
      runCli(['publish', video, '--stream', 'a.b', '--sequence', '1'], { NATS_URL: TEST_NATS_URL }),
      runCli(['publish', video, '--stream', 'cam', '--sequence', '-4'], { NATS_URL: TEST_NATS_URL }),
      runCli(['publish', path.join(dir, 'nope.mp4'), '--stream', 'cam', '--sequence', '1'], { NATS_URL: TEST_NATS_URL }),
    ]);
    expect(badStream).toMatchObject({ code: 2, stderr: expect.stringMatching(/^paddock: option '--stream <id>' argument 'a.b' is invalid. expected 1-128 characters.*\n$/) });
    expect(badSequence).toMatchObject({ code: 2, stderr: expect.stringMatching(/^paddock: --sequence must be a non-negative integer/) });
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/nope\.mp4 is not a file/) });
  });

  it('exits 1 with one clear line when NATS is unreachable', async () => {
    const result = await runCli(['publish', video, '--stream', 'cam', '--sequence', '1', '--duration', '2'], { NATS_URL: 'nats://127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').filter((line) => line.startsWith('paddock:'))).toEqual([expect.stringMatching(/^paddock: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/)]);
  });

  describe.skipIf(!natsUp)('against JetStream', () => {
    let nc: NatsConnection;
    beforeAll(async () => {
      nc = await connectTestNats();
    });
    afterAll(async () => {
      await nc?.drain();
    });

    it('publishes the contract payload to horses.chunks.<stream> in HORSE_CHUNKS', async () => {
      const streamId = `pubtest_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      const garbage = path.join(dir, 'garbage.mp4');
      await writeFile(garbage, 'not a video');
      const before = Date.now();
      const [probed, explicit, unprobeable] = await Promise.all([
        runCli(['publish', video, '--stream', streamId, '--sequence', '3'], { NATS_URL: TEST_NATS_URL }),
        runCli(['publish', video, '--stream', streamId, '--sequence', '4', '--chunk-id', 'custom', '--start-time', '2026-02-03T04:05:06Z', '--duration', '9.5'], { NATS_URL: TEST_NATS_URL }),
        runCli(['publish', garbage, '--stream', streamId, '--sequence', '5'], { NATS_URL: TEST_NATS_URL }),
      ]);
      expect(unprobeable).toMatchObject({ code: 2, stderr: expect.stringMatching(/pass --duration/) });

      const jsm = await jetstreamManager(nc);
      const payloads: Record<string, unknown> = {};
      for (const result of [probed, explicit]) {
        expect(result.code, result.stderr).toBe(0);
        const match = /^published (\S+) on horses\.chunks\.(\S+): stream HORSE_CHUNKS seq (\d+)\n$/.exec(result.stdout);
        expect(match, result.stdout).not.toBeNull();
        const seq = Number(match?.[3]);
        const stored = await jsm.streams.getMessage('HORSE_CHUNKS', { seq });
        expect(stored?.subject).toBe(`horses.chunks.${streamId}`);
        payloads[String(match?.[1])] = stored?.json();
        // Leave nothing for a daemon that consumes HORSE_CHUNKS.
        await jsm.streams.deleteMessage('HORSE_CHUNKS', seq);
      }
      const first = payloads[`${streamId}-000003`] as { start_time: string; duration_s: number };
      expect(first).toMatchObject({ stream_id: streamId, chunk_id: `${streamId}-000003`, sequence: 3, uri: video });
      expect(first.duration_s).toBeCloseTo(2, 1);
      const startMs = Date.parse(first.start_time);
      expect(startMs).toBeGreaterThanOrEqual(before - 2100 - 1000);
      expect(startMs).toBeLessThanOrEqual(Date.now() - 1900);
      expect(payloads.custom).toEqual({ stream_id: streamId, chunk_id: 'custom', sequence: 4, uri: video, start_time: '2026-02-03T04:05:06.000Z', duration_s: 9.5 });
    });
  });
});
