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

  it('moves with the camera: pan and zoom about the frame centre, sizes, velocities and variances scaled', () => {
    const kf = new BoxKalman({ x: 100, y: 50, w: 40, h: 20 });
    for (let t = 1; t <= 20; t += 1) {
      kf.predict();
      kf.update({ x: 100 + 2 * t, y: 50, w: 40, h: 20 });
    }
    const before = { velocity: kf.velocity[0]!, pp: kf.pp[0]!, box: kf.box() };
    kf.warp({ scale: 1.5, tx: 10, ty: -5, centreX: 320, centreY: 180 });
    const after = kf.box();
    const centreX = before.box.x + before.box.w / 2;
    const centreY = before.box.y + before.box.h / 2;
    expect(after.x + after.w / 2).toBeCloseTo(1.5 * (centreX - 320) + 320 + 10, 6);
    expect(after.y + after.h / 2).toBeCloseTo(1.5 * (centreY - 180) + 180 - 5, 6);
    expect(after.w).toBeCloseTo(1.5 * before.box.w, 6);
    expect(after.h).toBeCloseTo(1.5 * before.box.h, 6);
    expect(kf.velocity[0]).toBeCloseTo(1.5 * before.velocity, 9);
    expect(kf.pp[0]).toBeCloseTo(2.25 * before.pp, 9);
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

  it('holdSize() stops the change of size, not the movement', () => {
    const kf = new BoxKalman({ x: 0, y: 0, w: 100, h: 80 });
    for (let t = 1; t <= 8; t += 1) {
      kf.predict();
      kf.update({ x: 10 * t, y: 0, w: 100 - 4 * t, h: 80 - 3 * t });
    }
    kf.predict();
    const shrinking = kf.box();
    kf.holdSize();
    kf.predict();
    const held = kf.box();
    expect(held.w).toBeCloseTo(shrinking.w, 9);
    expect(held.h).toBeCloseTo(shrinking.h, 9);
    expect(held.x + held.w / 2).toBeGreaterThan(shrinking.x + shrinking.w / 2 + 5);
  });
});
