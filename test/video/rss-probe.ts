/**
 * Decodes one chunk at full resolution with a consumer slower than ffmpeg and prints
 * {"frames","bytes","maxRssBytes"} as JSON. Run in its own process so its peak RSS is the
 * decoder's alone: `node --import tsx test/video/rss-probe.ts FILE`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeChunk } from '../../src/video/index.ts';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: rss-probe.ts FILE');
let frames = 0;
let bytes = 0;
for await (const frame of decodeChunk(file, 'rss-probe', { sampleFps: 5, timeoutMs: 60_000 })) {
  frames += 1;
  bytes += frame.data.length;
  await sleep(2); // slower than ffmpeg: without backpressure, frames would pile up in memory
}
console.log(JSON.stringify({ frames, bytes, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
