import { describe, expect, it } from 'vitest';
import { PaddockError } from '../../src/errors/index.ts';
import { createScene, scenePosesAt, SceneRenderer, motLines, visibilityLines, MIN_LISTED_VISIBILITY } from '../../src/synth/index.ts';
import { createHash } from 'node:crypto';

describe('synthetic scene model', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = createScene({ seed: 3 });
    const b = createScene({ seed: 3 });
    const c = createScene({ seed: 4 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  it('gives every horse a different coat, except the twin pair in the hard case', () => {
    const scene = createScene({ horses: 10 });
    expect(new Set(scene.horses.map((horse) => horse.coat.name)).size).toBe(10);
    expect(new Set(scene.horses.map((horse) => JSON.stringify([horse.coat.body, horse.coat.pattern]))).size).toBe(10);
    const hard = createScene({ horses: 5, hard: true });
    expect(hard.twinIds).toEqual([1, 5]);
    const [first, twin] = [hard.horses[0], hard.horses[4]];
    expect(twin?.coat.body).toEqual(first?.coat.body);
    expect(twin?.coat.pattern).toEqual(first?.coat.pattern);
    expect(twin?.coat.face).not.toBe(first?.coat.face);
  });

  it('refuses bad options with a USAGE error', () => {
    for (const bad of [{ horses: 0 }, { horses: 11 }, { fps: 0 }, { width: 641 }, { chunks: 1.5 }, { seed: 0.5 }, { hard: true, horses: 1 }]) {
      let caught: unknown;
      try {
        createScene(bad);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PaddockError);
      expect((caught as PaddockError).code).toBe('USAGE');
    }
  });

  it('sends a horse out of frame across each chunk boundary and brings it back', () => {
    const scene = createScene({ seed: 1, chunks: 3, secondsPerChunk: 10 });
    const renderer = new SceneRenderer(scene);
    for (const [boundaryFrame, id] of [[100, 1], [200, 2]] as const) {
      const atBoundary = renderer.renderFrame(boundaryFrame).truth.horses.map((horse) => horse.id);
      expect(atBoundary).not.toContain(id);
      const before = renderer.renderFrame(boundaryFrame - 40).truth.horses.map((horse) => horse.id);
      const after = renderer.renderFrame(boundaryFrame + 50).truth.horses.map((horse) => horse.id);
      expect(before).toContain(id);
      expect(after).toContain(id);
    }
  });

  it('makes horses cross and occlude one another', () => {
    const scene = createScene({ seed: 1 });
    const renderer = new SceneRenderer(scene);
    let occludedFrames = 0;
    for (let frame = 0; frame < scene.totalFrames; frame += 5) {
      if (renderer.renderFrame(frame).truth.horses.some((horse) => horse.inFrameFraction > 0.99 && horse.visibility < 0.7)) occludedFrames++;
    }
    expect(occludedFrames).toBeGreaterThan(3);
  });

  it('draws far horses first (z-order by ground line)', () => {
    const poses = scenePosesAt(createScene({ seed: 2 }), 3);
    for (let index = 1; index < poses.length; index++) {
      expect((poses[index] as { groundY: number }).groundY).toBeGreaterThanOrEqual((poses[index - 1] as { groundY: number }).groundY);
    }
  });
});

describe('renderer and ground truth', () => {
  it('renders identical frames for a seed; truth boxes lie in the frame with visibility in 0..1', () => {
    const hash = (seed: number): string => {
      const scene = createScene({ seed, chunks: 1, secondsPerChunk: 2 });
      const renderer = new SceneRenderer(scene);
      const digest = createHash('sha256');
      for (let frame = 0; frame < scene.totalFrames; frame++) {
        const { rgb, truth } = renderer.renderFrame(frame);
        digest.update(rgb);
        for (const horse of truth.horses) {
          expect(horse.box.x).toBeGreaterThanOrEqual(0);
          expect(horse.box.y).toBeGreaterThanOrEqual(0);
          expect(horse.box.x + horse.box.w).toBeLessThanOrEqual(scene.options.width);
          expect(horse.box.y + horse.box.h).toBeLessThanOrEqual(scene.options.height);
          expect(horse.visibility).toBeGreaterThanOrEqual(0);
          expect(horse.visibility).toBeLessThanOrEqual(horse.inFrameFraction + 1e-9);
        }
      }
      return digest.digest('hex');
    };
    expect(hash(9)).toBe(hash(9));
    expect(hash(9)).not.toBe(hash(10));
  });

  it('writes MOT rows with 1-based frames, conf 1 and -1 world columns, leaving out nearly hidden horses', () => {
    const truth = {
      frameIndex: 41,
      timeS: 4.1,
      horses: [
        { id: 2, box: { x: 10, y: 20, w: 30, h: 40 }, visibility: 0.75, inFrameFraction: 1 },
        { id: 3, box: { x: 50, y: 60, w: 70, h: 80 }, visibility: MIN_LISTED_VISIBILITY / 2, inFrameFraction: 1 },
      ],
    };
    expect(motLines(truth)).toBe('42,2,10,20,30,40,1,-1,-1,-1\n');
    expect(visibilityLines(truth)).toBe('42,2,0.750\n');
  });
});
