import { knownHorseAfterChunk } from '../src/tracking/handover.ts';
/**
 * Tracking benchmarks:
 *  1. time per frame for association at 10 and 50 simultaneous tracks (512-d embeddings);
 *  2. the registry decision (one confirmed track against the known horses) at 50, 1,000 and
 *     10,000 known horses (512-d, 8 exemplars each), with the unpruned full scan as baseline;
 *  3. a peer comparison on one synthetic sequence with ground truth (moving boxes with noise,
 *     crossings, exits and re-entries, missed detections, clutter): paddock's tracker (run chunk
 *     by chunk through the registry hand-over, as the daemon does) next to OpenDataCam's
 *     node-moving-things-tracker, IDF1 (src/eval) and time per frame side by side.
 */
import { createRequire } from 'node:module';
import { evaluateMot, type MotRow } from '../src/eval/index.ts';
import { mulberry32 } from '../src/synth/random.ts';
import { createChunkTracker } from '../src/tracking/tracker.ts';
import { HorseGallery } from '../src/tracking/gallery.ts';
import { matchIdentities } from '../src/tracking/identity.ts';
import type { Box, FeatureBank, FramePerception, KnownHorse } from '../src/tracking/types.ts';
import { summarize } from './stats.ts';

const DIM = 512;
const FPS = 5;

// ── deterministic synthetic data ─────────────────────────────────────────────────────────────

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
}

function unitVector(random: () => number, dim = DIM): Float32Array {
  const v = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i += 1) {
    v[i] = gaussian(random);
    norm += v[i]! ** 2;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < dim; i += 1) v[i] = v[i]! / norm;
  return v;
}

/** identity + noise of norm ≈ `noise`, renormalised (cosine with identity ≈ 1/√(1+noise²)). */
function noisy(random: () => number, identity: Float32Array, noise: number): Float32Array {
  const v = new Float32Array(identity.length);
  const scale = noise / Math.sqrt(identity.length);
  let norm = 0;
  for (let i = 0; i < v.length; i += 1) {
    v[i] = identity[i]! + scale * gaussian(random);
    norm += v[i]! ** 2;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < v.length; i += 1) v[i] = v[i]! / norm;
  return v;
}

function syntheticBank(random: () => number, identity: Float32Array): FeatureBank {
  const exemplars = Array.from({ length: 8 }, () => noisy(random, identity, 0.6));
  return { first: exemplars[0]!, mean: Float32Array.from(identity), exemplars };
}

// ── 1. association per frame ─────────────────────────────────────────────────────────────────

function associationBench(trackCount: number): void {
  const random = mulberry32(trackCount);
  const identities = Array.from({ length: trackCount }, () => unitVector(random));
  const columns = Math.ceil(Math.sqrt(trackCount));
  const frames: FramePerception[] = [];
  const frameCount = 160;
  for (let f = 0; f < frameCount; f += 1) {
    const detections = identities.map((_, i) => ({
      box: { x: 20 + (i % columns) * 180 + 2 * f + gaussian(random), y: 20 + Math.floor(i / columns) * 120 + gaussian(random), w: 120, h: 80 },
      score: 0.85,
      classId: 0,
    }));
    frames.push({ frameIndex: f, timestampS: f / FPS, width: 1920, height: 1080, detections, embeddings: identities.map((id) => noisy(random, id, 0.4)) });
  }
  const tracker = createChunkTracker({ known: [], nextTrackingId: 1, chunkStart: new Date(0) });
  const samples: number[] = [];
  for (const frame of frames) {
    const start = performance.now();
    tracker.update(frame);
    if (frame.frameIndex >= 10) samples.push(performance.now() - start);
  }
  const horses = tracker.finish().horses.length;
  summarize(`association per frame, ${trackCount} tracks (${horses} horses)`, samples);
}

// ── 2. registry decision ─────────────────────────────────────────────────────────────────────

function decisionBench(knownCount: number): void {
  const random = mulberry32(1000 + knownCount);
  const identities = Array.from({ length: knownCount }, () => unitVector(random));
  const banks = identities.map((identity) => syntheticBank(random, identity));
  const buildStart = performance.now();
  const gallery = new HorseGallery(banks, DIM);
  const buildMs = performance.now() - buildStart;
  const scratch = new Float64Array(knownCount);
  const iterations = knownCount >= 10_000 ? 60 : 300;
  const queries = Array.from({ length: iterations }, (_, i) =>
    i % 2 === 0 ? noisy(random, identities[Math.floor(random() * knownCount)]!, 0.5) : unitVector(random),
  );
  const decide = (threshold: number): number[] => {
    const samples: number[] = [];
    for (let i = 0; i < 5; i += 1) matchIdentities({ queries: [queries[i]!], gallery, galleryEligible: null, liveBanks: [], threshold }, scratch);
    for (const query of queries) {
      const start = performance.now();
      matchIdentities({ queries: [query], gallery, galleryEligible: null, liveBanks: [], threshold }, scratch);
      samples.push(performance.now() - start);
    }
    return samples;
  };
  const pruned = summarize(`registry decision, ${knownCount} known (pruned, exact)`, decide(0.75));
  const full = summarize(`  baseline: full scan of every bank vector`, decide(Number.NEGATIVE_INFINITY));
  console.log(`  gallery build ${buildMs.toFixed(1)} ms; speed-up vs full scan p50 ×${(full.p50 / pruned.p50).toFixed(1)}`);
}

// ── 3. peer comparison ───────────────────────────────────────────────────────────────────────

interface GroundTruthFrame {
  perception: FramePerception;
  gt: { id: number; box: Box }[];
}

/**
 * 8 horses in a 1280×720 paddock for 600 frames (2 min at 5 fps): velocities drift and bounce
 * off the fences (so paths cross), each horse leaves through an edge 1–2 times for 10–60 frames
 * and comes back elsewhere, 10 % of detections are missed, boxes jitter by ~3 px, embeddings
 * have cosine ≈ 0.9 with the horse's identity, and a few low-score clutter detections appear.
 */
function peerScene(seed: number): GroundTruthFrame[] {
  const random = mulberry32(seed);
  const W = 1280;
  const H = 720;
  const horses = Array.from({ length: 8 }, (_, i) => ({
    id: i + 1,
    identity: unitVector(random),
    w: 100 + random() * 60,
    h: 70 + random() * 40,
    x: 50 + random() * (W - 250),
    y: 50 + random() * (H - 200),
    vx: (random() - 0.5) * 16,
    vy: (random() - 0.5) * 10,
    absentUntil: -1,
    nextExit: 60 + Math.floor(random() * 400),
  }));
  const frames: GroundTruthFrame[] = [];
  for (let f = 0; f < 600; f += 1) {
    const detections: FramePerception['detections'] = [];
    const embeddings: Float32Array[] = [];
    const gt: { id: number; box: Box }[] = [];
    for (const horse of horses) {
      if (f === horse.nextExit) {
        horse.absentUntil = f + 10 + Math.floor(random() * 50);
        horse.nextExit = horse.absentUntil + 100 + Math.floor(random() * 300);
      }
      if (f < horse.absentUntil) continue;
      if (f === horse.absentUntil) {
        // Re-enter from a random side.
        horse.x = random() < 0.5 ? 5 : W - horse.w - 5;
        horse.y = 50 + random() * (H - 200);
        horse.vx = horse.x < W / 2 ? 4 + random() * 6 : -(4 + random() * 6);
      }
      horse.vx = Math.max(-12, Math.min(12, horse.vx + gaussian(random) * 0.8));
      horse.vy = Math.max(-8, Math.min(8, horse.vy + gaussian(random) * 0.6));
      horse.x += horse.vx;
      horse.y += horse.vy;
      if (horse.x < 0 || horse.x + horse.w > W) horse.vx = -horse.vx;
      if (horse.y < 0 || horse.y + horse.h > H) horse.vy = -horse.vy;
      horse.x = Math.max(0, Math.min(W - horse.w, horse.x));
      horse.y = Math.max(0, Math.min(H - horse.h, horse.y));
      const box = { x: horse.x, y: horse.y, w: horse.w, h: horse.h };
      gt.push({ id: horse.id, box });
      if (random() < 0.1) continue; // missed detection
      detections.push({
        box: { x: box.x + gaussian(random) * 3, y: box.y + gaussian(random) * 3, w: box.w + gaussian(random) * 3, h: box.h + gaussian(random) * 3 },
        score: 0.55 + random() * 0.4,
        classId: 0,
      });
      embeddings.push(noisy(random, horse.identity, 0.5));
    }
    if (random() < 0.05) {
      detections.push({ box: { x: random() * (W - 100), y: random() * (H - 80), w: 90, h: 60 }, score: 0.3 + random() * 0.3, classId: 0 });
      embeddings.push(unitVector(random));
    }
    frames.push({ perception: { frameIndex: f, timestampS: f / FPS, width: W, height: H, detections, embeddings }, gt });
  }
  return frames;
}

/** paddock: chunks of 50 frames (10 s), each tracker seeded with the previous chunks' horses. */
function runPaddock(frames: GroundTruthFrame[]): { rows: MotRow[]; samples: number[] } {
  const chunkFrames = 50;
  const start0 = Date.parse('2026-01-01T00:00:00Z');
  const registry = new Map<string, KnownHorse>();
  let nextTrackingId = 1;
  const rows: MotRow[] = [];
  const samples: number[] = [];
  for (let c = 0; c * chunkFrames < frames.length; c += 1) {
    const chunkStart = new Date(start0 + (c * chunkFrames * 1000) / FPS);
    const tracker = createChunkTracker({ known: [...registry.values()], nextTrackingId, chunkStart });
    for (const { perception } of frames.slice(c * chunkFrames, (c + 1) * chunkFrames)) {
      const local = { ...perception, frameIndex: perception.frameIndex - c * chunkFrames, timestampS: perception.timestampS - (c * chunkFrames) / FPS };
      const started = performance.now();
      tracker.update(local);
      samples.push(performance.now() - started);
    }
    const started = performance.now();
    const result = tracker.finish();
    samples[samples.length - 1]! += performance.now() - started;
    nextTrackingId = result.nextTrackingId;
    for (const horse of result.horses) {
      registry.set(horse.id, knownHorseAfterChunk(horse, registry.get(horse.id)));
      for (const f of horse.frames) {
        rows.push({ frame: c * chunkFrames + f.frameIndex + 1, id: horse.trackingId, ...f.box, conf: f.score });
      }
    }
  }
  return { rows, samples };
}


interface MovingThingsTracker {
  reset(): void;
  updateTrackedItemsWithNewFrame(detections: { x: number; y: number; w: number; h: number; confidence: number; name: string }[], frameNb: number): void;
  getJSONOfTrackedItems(roundInt?: boolean): { id: number; x: number; y: number; w: number; h: number; confidence: number; isZombie: boolean }[];
}

/** OpenDataCam's tracker (defaults as shipped). Inputs and outputs use the box centre; zombies (unmatched, extrapolated) are not reported. */
function runMovingThings(frames: GroundTruthFrame[]): { rows: MotRow[]; samples: number[] } {
  const require = createRequire(import.meta.url);
  // The package's main.js parses process.argv on load; its tracker module is the library proper.
  const tracker = require('node-moving-things-tracker/tracker.js') as MovingThingsTracker;
  tracker.reset();
  const rows: MotRow[] = [];
  const samples: number[] = [];
  for (const { perception } of frames) {
    const input = perception.detections.map((d) => ({ x: d.box.x + d.box.w / 2, y: d.box.y + d.box.h / 2, w: d.box.w, h: d.box.h, confidence: d.score * 100, name: 'horse' }));
    const started = performance.now();
    tracker.updateTrackedItemsWithNewFrame(input, perception.frameIndex);
    const items = tracker.getJSONOfTrackedItems(false);
    samples.push(performance.now() - started);
    for (const item of items) {
      if (item.isZombie) continue;
      rows.push({ frame: perception.frameIndex + 1, id: item.id + 1, x: item.x - item.w / 2, y: item.y - item.h / 2, w: item.w, h: item.h, conf: item.confidence / 100 });
    }
  }
  return { rows, samples };
}

function peerComparison(): void {
  const frames = peerScene(2026);
  const gt: MotRow[] = frames.flatMap(({ gt: objects }, f) => objects.map((o) => ({ frame: f + 1, id: o.id, ...o.box, conf: 1 })));
  const detectionCount = frames.reduce((n, f) => n + f.perception.detections.length, 0);
  console.log(`peer comparison: ${frames.length} frames, ${gt.length} ground-truth boxes, ${detectionCount} detections, 8 horses`);
  const paddock = runPaddock(frames);
  const peer = runMovingThings(frames);
  const paddockMetrics = evaluateMot(gt, paddock.rows);
  const peerMetrics = evaluateMot(gt, peer.rows);
  const p = summarize('  paddock tracker, per frame', paddock.samples);
  const o = summarize('  node-moving-things-tracker, per frame', peer.samples);
  const distinct = (rows: MotRow[]): number => new Set(rows.map((r) => r.id)).size;
  console.log('  tracker                       IDF1    IDP     IDR    MOTA  ID sw  IDs  p50 ms/frame');
  for (const [name, metrics, rows, timing] of [
    ['paddock', paddockMetrics, paddock.rows, p],
    ['node-moving-things-tracker', peerMetrics, peer.rows, o],
  ] as const) {
    const { idf1, idp, idr } = metrics.identity;
    console.log(
      `  ${name.padEnd(28)}${fmt(idf1)}  ${fmt(idp)}  ${fmt(idr)}  ${fmt(metrics.clear.mota)}  ${String(metrics.clear.idSwitches).padStart(5)}  ${String(distinct(rows)).padStart(3)}  ${timing.p50.toFixed(3)}`,
    );
  }
  console.log(`  time ratio paddock / peer (p50): ×${(p.p50 / o.p50).toFixed(2)}`);
}

function fmt(value: number): string {
  return value.toFixed(3).padStart(6);
}

export async function run(): Promise<void> {
  associationBench(10);
  associationBench(50);
  for (const count of [50, 1000, 10_000]) decisionBench(count);
  peerComparison();
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
