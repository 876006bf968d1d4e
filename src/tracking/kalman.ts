/**
 * Constant-velocity Kalman filter on a box (centre x, centre y, width, height), one step per
 * sampled frame.
 *
 * The motion model moves each of the four coordinates independently by its own velocity, and the
 * process/measurement noises are diagonal, so the 8×8 covariance stays block-diagonal: four
 * independent 2×2 position/velocity filters. Running them separately is exactly the full
 * filter (not an approximation) with a fraction of the arithmetic and no matrix allocation.
 * Noise scales with the box size as in BoT-SORT (x and w with the width, y and h with the height).
 */
import { warpX, warpY } from './geometry.ts';
import type { KalmanState } from './state.ts';
import type { Box, CameraMotion } from './types.ts';

export interface KalmanNoise {
  /** Position standard deviation as a fraction of the box size (per step and per measurement). */
  positionStd: number;
  /** Velocity standard deviation as a fraction of the box size (per step). */
  velocityStd: number;
}

export const DEFAULT_KALMAN_NOISE: KalmanNoise = { positionStd: 1 / 20, velocityStd: 1 / 160 };

const AXES = 4;
const MIN_SIZE = 1;

export class BoxKalman {
  /** [cx, cy, w, h] positions and their velocities. */
  readonly position = new Float64Array(AXES);
  readonly velocity = new Float64Array(AXES);
  /** Per axis: variance of position, covariance position/velocity, variance of velocity. */
  readonly pp = new Float64Array(AXES);
  readonly pv = new Float64Array(AXES);
  readonly vv = new Float64Array(AXES);
  private readonly noise: KalmanNoise;

  constructor(box: Box, noise: KalmanNoise = DEFAULT_KALMAN_NOISE) {
    this.noise = noise;
    this.position[0] = box.x + box.w / 2;
    this.position[1] = box.y + box.h / 2;
    this.position[2] = box.w;
    this.position[3] = box.h;
    for (let axis = 0; axis < AXES; axis += 1) {
      const size = this.sizeFor(axis);
      this.pp[axis] = (2 * noise.positionStd * size) ** 2;
      this.pv[axis] = 0;
      this.vv[axis] = (10 * noise.velocityStd * size) ** 2;
    }
  }

  /** Advances the state by one step. */
  predict(): void {
    for (let axis = 0; axis < AXES; axis += 1) {
      const size = this.sizeFor(axis);
      const qp = (this.noise.positionStd * size) ** 2;
      const qv = (this.noise.velocityStd * size) ** 2;
      this.position[axis] = this.position[axis]! + this.velocity[axis]!;
      const pp = this.pp[axis]!;
      const pv = this.pv[axis]!;
      const vv = this.vv[axis]!;
      this.pp[axis] = pp + 2 * pv + vv + qp;
      this.pv[axis] = pv + vv;
      this.vv[axis] = vv + qv;
    }
    this.clampSize();
  }

  /**
   * Moves the state with the camera: p' = scale · (p − centre) + centre + shift for the box
   * centre, sizes and velocities scaled by `scale` (the variances by its square).
   */
  warp(motion: CameraMotion): void {
    const { scale } = motion;
    this.position[0] = warpX(this.position[0]!, motion);
    this.position[1] = warpY(this.position[1]!, motion);
    this.position[2] = scale * this.position[2]!;
    this.position[3] = scale * this.position[3]!;
    const squared = scale * scale;
    for (let axis = 0; axis < AXES; axis += 1) {
      this.velocity[axis] = scale * this.velocity[axis]!;
      this.pp[axis] = squared * this.pp[axis]!;
      this.pv[axis] = squared * this.pv[axis]!;
      this.vv[axis] = squared * this.vv[axis]!;
    }
    this.clampSize();
  }

  /** Corrects the state with a measured box. */
  update(box: Box): void {
    const measured = [box.x + box.w / 2, box.y + box.h / 2, box.w, box.h];
    for (let axis = 0; axis < AXES; axis += 1) {
      const size = this.sizeFor(axis);
      const r = (this.noise.positionStd * size) ** 2;
      const pp = this.pp[axis]!;
      const pv = this.pv[axis]!;
      const innovationVariance = pp + r;
      const gainP = pp / innovationVariance;
      const gainV = pv / innovationVariance;
      const residual = measured[axis]! - this.position[axis]!;
      this.position[axis] = this.position[axis]! + gainP * residual;
      this.velocity[axis] = this.velocity[axis]! + gainV * residual;
      this.pp[axis] = (1 - gainP) * pp;
      this.pv[axis] = (1 - gainP) * pv;
      this.vv[axis] = this.vv[axis]! - gainV * pv;
    }
    this.clampSize();
  }

  /** The filter's state, for carrying a track from one chunk to the next. */
  snapshot(): KalmanState {
    return { position: [...this.position], velocity: [...this.velocity], pp: [...this.pp], pv: [...this.pv], vv: [...this.vv] };
  }

  /** A filter resumed from a snapshot. */
  static restore(state: KalmanState, noise: KalmanNoise = DEFAULT_KALMAN_NOISE): BoxKalman {
    const [cx, cy, w, h] = state.position as [number, number, number, number];
    const filter = new BoxKalman({ x: cx - w / 2, y: cy - h / 2, w, h }, noise);
    filter.position.set(state.position);
    filter.velocity.set(state.velocity);
    filter.pp.set(state.pp);
    filter.pv.set(state.pv);
    filter.vv.set(state.vv);
    return filter;
  }

  /**
   * Stops the box's change of size (kept while a track is lost): a horse unseen for a while keeps
   * its size, where the last frames' trend would shrink its predicted box to nothing.
   */
  holdSize(): void {
    this.velocity[2] = 0;
    this.velocity[3] = 0;
  }

  box(): Box {
    const w = this.position[2]!;
    const h = this.position[3]!;
    return { x: this.position[0]! - w / 2, y: this.position[1]! - h / 2, w, h };
  }

  private sizeFor(axis: number): number {
    // x and w scale with the width, y and h with the height.
    const size = axis === 0 || axis === 2 ? this.position[2]! : this.position[3]!;
    return Math.max(MIN_SIZE, size);
  }

  private clampSize(): void {
    if (this.position[2]! < MIN_SIZE) this.position[2] = MIN_SIZE;
    if (this.position[3]! < MIN_SIZE) this.position[3] = MIN_SIZE;
  }
}
