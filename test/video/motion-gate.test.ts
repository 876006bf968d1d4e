import { describe, expect, it } from 'vitest';
import { meanAbsoluteDifference, MotionGate } from '../../src/video/index.ts';

const SIZE = 64 * 36;
const picture = (grey: number) => new Uint8Array(SIZE).fill(grey);

describe('MotionGate', () => {
  it('runs the detector on the first frame, then holds frames while the scene stays as it was', () => {
    const gate = new MotionGate({ threshold: 1, maxHeldFrames: 10 });
    expect(gate.shouldDetect(picture(100), true)).toBe(true);
    expect([1, 2, 3].map(() => gate.shouldDetect(picture(100), true))).toEqual([false, false, false]);
  });

  it('compares with the last detected frame, so slow change adds up until it counts', () => {
    const gate = new MotionGate({ threshold: 1, maxHeldFrames: 100 });
    gate.shouldDetect(picture(100), true);
    // Each frame differs from the one before by 0.5 only; from the detected one by 0.5, 1.0, …
    const frame = (i: number) => {
      const pixels = picture(100);
      pixels.fill(132, 0, 36 * i); // 36 pixels × 32 grey levels / 2304 pixels = 0.5 per step
      return pixels;
    };
    expect(meanAbsoluteDifference(frame(1), frame(2))).toBe(0.5);
    expect([1, 2, 3].map((i) => gate.shouldDetect(frame(i), true))).toEqual([false, true, false]);
  });

  it('runs the detector at least every maxHeldFrames + 1 frames however still the scene', () => {
    const gate = new MotionGate({ threshold: 1, maxHeldFrames: 3 });
    const decisions = Array.from({ length: 9 }, () => gate.shouldDetect(picture(50), true));
    expect(decisions).toEqual([true, false, false, false, true, false, false, false, true]);
  });

  it('never holds when the tracker cannot, without a grey copy, or when gating is off', () => {
    const gate = new MotionGate({ threshold: 1, maxHeldFrames: 10 });
    gate.shouldDetect(picture(10), true);
    expect(gate.shouldDetect(picture(10), false)).toBe(true);
    expect(gate.shouldDetect(undefined, true)).toBe(true);
    const off = new MotionGate({ threshold: 0, maxHeldFrames: 10 });
    expect([1, 2, 3].map(() => off.shouldDetect(picture(10), true))).toEqual([true, true, true]);
  });
});
