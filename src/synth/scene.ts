/**
 * The pure scene model of a synthetic paddock stream: which horses exist, how they look and
 * where each one stands at any time t. No pixels and no I/O here (see render.ts).
 *
 * Horses walk between random targets inside the paddock, pause to graze, cross each other, and
 * some leave the frame shortly before a chunk boundary and come back after it, so a tracker
 * must re-identify them across chunks.
 */
import { PaddockError } from '../errors/index.ts';
import { COATS, MAX_HORSES, nearTwinOf, type Coat } from './coats.ts';
import { seededRandom, type Random } from './random.ts';

export interface SceneOptions {
  horses: number;
  chunks: number;
  secondsPerChunk: number;
  fps: number;
  seed: number;
  width: number;
  height: number;
  /** Make the last horse a near-identical twin of the first one. */
  hard: boolean;
  /** The horses graze: they stay in view and only now and then take a short, slow step (a still scene). */
  grazing: boolean;
}

export const DEFAULT_SCENE_OPTIONS: SceneOptions = {
  horses: 5,
  chunks: 3,
  secondsPerChunk: 10,
  fps: 10,
  seed: 1,
  width: 640,
  height: 360,
  hard: false,
  grazing: false,
};

/** One straight walk from (x0, y0) to (x1, y1) during [t0, t1], then standing still until the next leg. */
interface Leg {
  t0: number;
  t1: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Distance walked before this leg, for the gait phase. */
  distanceBefore: number;
}

export interface SceneHorse {
  /** 1-based ground-truth id. */
  id: number;
  coat: Coat;
  /** Per-horse body proportions, so silhouettes differ a little too. */
  build: { length: number; legLength: number };
  legs: Leg[];
}

export interface Scene {
  options: SceneOptions;
  horses: SceneHorse[];
  /** Stream duration in seconds. */
  durationS: number;
  framesPerChunk: number;
  totalFrames: number;
  /** Ids of the near-identical pair in hard mode, else null. */
  twinIds: [number, number] | null;
}

/** Where a horse stands at one instant, in frame pixels. */
export interface HorsePose {
  id: number;
  /** Ground contact point (between the hooves). */
  groundX: number;
  groundY: number;
  /** Height of the horse in pixels (ground to ear tips). */
  size: number;
  /** +1 facing right, -1 facing left. */
  facing: 1 | -1;
  /** Gait phase in radians (leg swing). */
  gaitPhase: number;
}

/** Horse size grows towards the bottom of the frame (a camera looking down over the paddock). */
export function horseSizeAt(groundY: number, height: number): number {
  const far = height * 0.45;
  const near = height;
  const fraction = Math.min(1, Math.max(0, (groundY - far) / (near - far)));
  return height * (0.2 + 0.13 * fraction);
}

const WALK_SPEED = { min: 35, max: 80 };
const PAUSE_S = { min: 0, max: 1.6 };
const MAX_LEG_PX = 170;
const GRAZING = { speed: { min: 8, max: 16 }, pauseS: { min: 10, max: 30 }, legShare: 0.15 };
const EXIT_TRAVEL_S = 2.5;
const RETURN_AFTER_BOUNDARY_S = { min: 1.5, max: 3.5 };

function validate(options: SceneOptions): void {
  const bad = (what: string): never => {
    throw new PaddockError('USAGE', `synthetic stream: ${what}`);
  };
  if (!Number.isInteger(options.horses) || options.horses < 1 || options.horses > MAX_HORSES) bad(`horses must be an integer from 1 to ${MAX_HORSES}`);
  if (!Number.isInteger(options.chunks) || options.chunks < 1 || options.chunks > 1000) bad('chunks must be an integer from 1 to 1000');
  if (!(options.secondsPerChunk > 0 && options.secondsPerChunk <= 3600)) bad('seconds must be in (0, 3600]');
  if (!(options.fps > 0 && options.fps <= 120)) bad('fps must be in (0, 120]');
  if (!Number.isInteger(options.seed)) bad('seed must be an integer');
  for (const [name, value] of [['width', options.width], ['height', options.height]] as const) {
    if (!Number.isInteger(value) || value < 64 || value > 4096 || value % 2 !== 0) bad(`${name} must be an even integer from 64 to 4096`);
  }
  if (options.hard && options.horses < 2) bad('the hard case needs at least 2 horses');
  if (Math.round(options.secondsPerChunk * options.fps) < 1) bad('a chunk must hold at least one frame');
}

/** The paddock area where ground points of wandering horses stay (horses fully in frame). */
function paddockBounds(options: SceneOptions): { xMin: number; xMax: number; yMin: number; yMax: number } {
  const { width, height } = options;
  const yMin = height * 0.45;
  const yMax = height * 0.97;
  const halfWidth = horseSizeAt(yMax, height) * 0.8;
  return { xMin: halfWidth, xMax: width - halfWidth, yMin, yMax };
}

function chunkBoundaries(options: SceneOptions): number[] {
  return Array.from({ length: options.chunks - 1 }, (_, index) => (index + 1) * options.secondsPerChunk);
}

/** Absences: horse k (0-based) is away around boundary k; with one chunk, horse 0 is away mid-stream. */
function plannedAbsences(options: SceneOptions, random: Random): Array<{ horse: number; leaveBy: number; returnAt: number }> {
  const boundaries = chunkBoundaries(options);
  const duration = options.chunks * options.secondsPerChunk;
  if (boundaries.length === 0) {
    if (duration < 14) return [];
    const middle = duration / 2;
    return [{ horse: 0, leaveBy: middle - 1, returnAt: middle + 2 }];
  }
  return boundaries.slice(0, options.horses).flatMap((boundary, index) => {
    if (boundary < EXIT_TRAVEL_S + 2) return [];
    return [{ horse: index, leaveBy: boundary - 1, returnAt: boundary + random.between(RETURN_AFTER_BOUNDARY_S.min, RETURN_AFTER_BOUNDARY_S.max) }];
  });
}

function planLegs(
  random: Random,
  options: SceneOptions,
  durationS: number,
  absences: Array<{ leaveBy: number; returnAt: number }>,
  home: { x: number; range: number },
): Leg[] {
  const bounds = paddockBounds(options);
  const legs: Leg[] = [];
  let x = home.x + random.between(-0.4, 0.4) * home.range;
  let y = random.between(bounds.yMin, bounds.yMax);
  let t = 0;
  let distance = 0;
  const pending = [...absences].sort((a, b) => a.leaveBy - b.leaveBy);
  const push = (t1: number, x1: number, y1: number): void => {
    legs.push({ t0: t, t1, x0: x, y0: y, x1, y1, distanceBefore: distance });
    distance += Math.hypot(x1 - x, y1 - y);
    t = t1;
    x = x1;
    y = y1;
  };
  while (t < durationS + 1) {
    const absence = pending[0];
    const exitStart = absence === undefined ? Infinity : absence.leaveBy - EXIT_TRAVEL_S;
    if (absence !== undefined && t >= exitStart - 1e-6) {
      pending.shift();
      const size = horseSizeAt(y, options.height);
      const exitLeft = x < options.width / 2;
      const outsideX = exitLeft ? -size * 1.2 : options.width + size * 1.2;
      const travel = Math.max(0.5, absence.leaveBy - t);
      const speed = Math.max(WALK_SPEED.max, Math.abs(outsideX - x) / travel);
      push(t + Math.abs(outsideX - x) / speed, outsideX, y);
      push(Math.max(t, absence.returnAt), outsideX, y);
      const entryX = exitLeft ? random.between(bounds.xMin, options.width * 0.4) : random.between(options.width * 0.6, bounds.xMax);
      const entryY = random.between(bounds.yMin, bounds.yMax);
      const entrySpeed = random.between(WALK_SPEED.max, WALK_SPEED.max * 1.4);
      push(t + Math.hypot(entryX - x, entryY - y) / entrySpeed, entryX, entryY);
      continue;
    }
    // Wander around a home area so the herd spreads over the paddock but neighbours still cross.
    const maxLeg = options.grazing ? MAX_LEG_PX * GRAZING.legShare : MAX_LEG_PX;
    const wantedX = home.x + random.between(-1, 1) * home.range;
    const dx = wantedX - x;
    const reachX = Math.sign(dx) * Math.min(Math.abs(dx), maxLeg);
    const targetX = Math.min(bounds.xMax, Math.max(bounds.xMin, x + reachX));
    const targetY = Math.min(bounds.yMax, Math.max(bounds.yMin, y + random.between(-1, 1) * maxLeg * 0.5));
    const walkSpeed = options.grazing ? GRAZING.speed : WALK_SPEED;
    const speed = random.between(walkSpeed.min, walkSpeed.max);
    const walkS = Math.hypot(targetX - x, targetY - y) / speed;
    // Cut a walk short so a planned exit starts on time.
    const share = Math.min(1, Math.max(0, (exitStart - t) / Math.max(walkS, 1e-6)));
    push(t + walkS * share, x + (targetX - x) * share, y + (targetY - y) * share);
    const pause = options.grazing ? GRAZING.pauseS : PAUSE_S;
    push(Math.min(exitStart, t + random.between(pause.min, pause.max)), x, y);
  }
  return legs;
}

/** Builds the deterministic scene for a seed. Throws PaddockError('USAGE') on bad options. */
export function createScene(partial: Partial<SceneOptions> = {}): Scene {
  const options: SceneOptions = { ...DEFAULT_SCENE_OPTIONS, ...partial };
  validate(options);
  const random = seededRandom(options.seed);
  const durationS = options.chunks * options.secondsPerChunk;
  const framesPerChunk = Math.round(options.secondsPerChunk * options.fps);
  const absences = options.grazing ? [] : plannedAbsences(options, random);
  const bounds = paddockBounds(options);
  const sectorWidth = (bounds.xMax - bounds.xMin) / options.horses;
  const sectors = Array.from({ length: options.horses }, (_, index) => index);
  for (let index = sectors.length - 1; index > 0; index--) {
    const other = random.int(0, index);
    [sectors[index], sectors[other]] = [sectors[other] as number, sectors[index] as number];
  }
  const horses: SceneHorse[] = Array.from({ length: options.horses }, (_, index) => {
    const isTwin = options.hard && index === options.horses - 1;
    const baseCoat = COATS[index % COATS.length] as Coat;
    const home = { x: bounds.xMin + ((sectors[index] as number) + 0.5) * sectorWidth, range: sectorWidth * 0.5 + 70 };
    const coat = isTwin ? nearTwinOf(COATS[0] as Coat) : baseCoat;
    return {
      id: index + 1,
      coat,
      build: { length: random.between(0.95, 1.08), legLength: random.between(0.95, 1.06) },
      legs: planLegs(
        random,
        options,
        durationS,
        absences.filter((absence) => absence.horse === index),
        home,
      ),
    };
  });
  return {
    options,
    horses,
    durationS,
    framesPerChunk,
    totalFrames: framesPerChunk * options.chunks,
    twinIds: options.hard ? [1, options.horses] : null,
  };
}

/** Pose of one horse at time t (seconds from the stream start). */
export function horsePoseAt(horse: SceneHorse, t: number, frameHeight: number): HorsePose {
  const legs = horse.legs;
  let leg = legs[legs.length - 1] as Leg;
  let facing: 1 | -1 = 1;
  for (const candidate of legs) {
    if (candidate.x1 !== candidate.x0) facing = candidate.x1 > candidate.x0 ? 1 : -1;
    if (t < candidate.t1) {
      leg = candidate;
      break;
    }
  }
  const span = leg.t1 - leg.t0;
  const progress = span > 0 ? Math.min(1, Math.max(0, (t - leg.t0) / span)) : 1;
  const groundX = leg.x0 + (leg.x1 - leg.x0) * progress;
  const groundY = leg.y0 + (leg.y1 - leg.y0) * progress;
  const size = horseSizeAt(groundY, frameHeight);
  const walked = leg.distanceBefore + Math.hypot(leg.x1 - leg.x0, leg.y1 - leg.y0) * progress;
  return { id: horse.id, groundX, groundY, size, facing, gaitPhase: (walked / (size * 0.9)) * Math.PI * 2 };
}

/** Poses of every horse at time t, back to front (farther horses first). */
export function scenePosesAt(scene: Scene, t: number): HorsePose[] {
  return scene.horses
    .map((horse) => horsePoseAt(horse, t, scene.options.height))
    .sort((a, b) => a.groundY - b.groundY || a.id - b.id);
}

/** Time of 0-based stream frame k. */
export function frameTime(scene: Scene, frameIndex: number): number {
  return frameIndex / scene.options.fps;
}
