import { describe, expect, it } from 'vitest';
import { BoxKalman } from '../../src/tracking/kalman.ts';

describe('BoxKalman', () => {
  it('starts at the measured box with zero velocity and predicts in place', () => {
    const kf = new BoxKalman({ x: 10, y: 20, w: 40, h: 30 });
    expect(kf.box()).toEqual({ x: 10, y: 20, w: 40, h: 30 });
    kf.predict();
    expect(kf.box()).toEqual({ x: 10, y: 20, w: 40, h: 30 });
  });

  it('learns a constant velocity and extrapolates it', () => {
    const kf = new BoxKalman({ x: 0, y: 0, w: 50, h: 40 });
    for (let t = 1; t <= 40; t += 1) {
      kf.predict();
      kf.update({ x: 5 * t, y: -2 * t, w: 50, h: 40 });
    }
    expect(kf.velocity[0]).toBeCloseTo(5, 1);
    expect(kf.velocity[1]).toBeCloseTo(-2, 1);
    kf.predict();
    const predicted = kf.box();
    expect(predicted.x).toBeCloseTo(205, 0);
    expect(predicted.y).toBeCloseTo(-82, 0);
    expect(predicted.w).toBeCloseTo(50, 3);
  });

  it('grows uncertainty on predict and shrinks it on update', () => {
    const kf = new BoxKalman({ x: 0, y: 0, w: 50, h: 40 });
    const before = kf.pp[0]!;
    kf.predict();
    const predicted = kf.pp[0]!;
    expect(predicted).toBeGreaterThan(before);
    kf.update({ x: 1, y: 0, w: 50, h: 40 });
    expect(kf.pp[0]!).toBeLessThan(predicted);
    // An update moves the estimate part of the way towards the measurement.
    const x = kf.box().x;
    expect(x).toBeGreaterThan(0);
    expect(x).toBeLessThan(1);
  });

  it('freeze() stops the motion', () => {
    const kf = new BoxKalman({ x: 0, y: 0, w: 50, h: 40 });
    for (let t = 1; t <= 5; t += 1) {
      kf.predict();
      kf.update({ x: 10 * t, y: 0, w: 50, h: 40 });
    }
    kf.freeze();
    const x = kf.box().x;
    kf.predict();
    expect(kf.box().x).toBeCloseTo(x, 9);
  });
});
