import { describe, expect, it } from 'vitest';
import { BoxKalman } from '../../src/tracking/kalman.ts';
import { boxGap, coverage, iou, warpBox } from '../../src/tracking/geometry.ts';

describe('box geometry', () => {
  const a = { x: 0, y: 0, w: 100, h: 50 };

  it('iou is symmetric and 0 for disjoint boxes', () => {
    const b = { x: 50, y: 0, w: 100, h: 50 };
    expect(iou(a, b)).toBeCloseTo(2500 / 7500, 12);
    expect(iou(b, a)).toBeCloseTo(iou(a, b), 12);
    expect(iou(a, { x: 200, y: 0, w: 10, h: 10 })).toBe(0);
  });

  it('coverage is the share of the first box inside the second, not symmetric', () => {
    const small = { x: 10, y: 10, w: 20, h: 20 };
    expect(coverage(small, a)).toBe(1);
    expect(coverage(a, small)).toBeCloseTo(400 / 5000, 12);
    expect(coverage({ x: 0, y: 0, w: 0, h: 10 }, a)).toBe(0);
  });

  it('coverage with a margin counts a box that only touches the other, grown by margin × its shorter side', () => {
    const beside = { x: 102, y: 0, w: 40, h: 50 }; // 2 px gap
    expect(coverage(beside, a)).toBe(0);
    // a grows by 0.1 × 50 = 5 px: 3 px of `beside`'s 40 px width are inside.
    expect(coverage(beside, a, 0.1)).toBeCloseTo(3 / 40, 12);
  });

  it('boxGap is the distance between nearest edges, 0 for touching or overlapping boxes', () => {
    expect(boxGap(a, { x: 50, y: 10, w: 100, h: 10 })).toBe(0);
    expect(boxGap(a, { x: 100, y: 0, w: 10, h: 10 })).toBe(0);
    expect(boxGap(a, { x: 130, y: 0, w: 10, h: 10 })).toBe(30);
    expect(boxGap({ x: 130, y: 90, w: 10, h: 10 }, a)).toBe(50); // 30 right, 40 below
  });

  it('warpBox moves a box with the camera as the Kalman filter moves a track', () => {
    const motion = { scale: 1.2, tx: 15, ty: -8, centreX: 320, centreY: 180 };
    const box = { x: 100, y: 150, w: 80, h: 60 };
    const kf = new BoxKalman(box);
    kf.warp(motion);
    const expected = kf.box();
    const warped = warpBox(box, motion);
    for (const key of ['x', 'y', 'w', 'h'] as const) expect(warped[key]).toBeCloseTo(expected[key], 6);
    expect(warpBox(box, { scale: 1, tx: 0, ty: 0, centreX: 0, centreY: 0 })).toEqual(box);
  });
});
