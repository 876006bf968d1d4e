/**
 * Rasterises a synthetic paddock scene into RGB frames and measures the exact ground truth
 * (tight box and visible fraction of every horse) from the same pixels.
 *
 * Horses are drawn back to front. Each one is drawn with a thin halo of plain grass around its
 * silhouette, so a horse in front stays separated from the one behind it (like the depth edge a
 * real camera sees); the project's colour-based detector relies on that gap.
 */
import type { Box } from '../tracking/index.ts';
import type { Coat, Rgb } from './coats.ts';
import { frameTime, scenePosesAt, type HorsePose, type Scene, type SceneHorse } from './scene.ts';
import { seededRandom } from './random.ts';

/** Ground truth of one horse in one frame. */
export interface HorseTruth {
  id: number;
  /** Tight box of the horse's whole silhouette, clipped to the frame (occluded parts included). */
  box: Box;
  /** Silhouette pixels seen in the frame (not off-frame, not hidden by a horse in front) over all silhouette pixels. */
  visibility: number;
  /** Fraction of the silhouette inside the frame, occluded or not. */
  inFrameFraction: number;
}

export interface FrameTruth {
  frameIndex: number;
  timeS: number;
  /** Horses with at least one silhouette pixel inside the frame, by id. */
  horses: HorseTruth[];
}

/** Grass colour; also the halo colour around each horse. */
export const GRASS_RGB: Rgb = [82, 140, 54];
/** Width in pixels of the grass halo that separates overlapping horses. */
export const HALO_PX = 6;

const enum Part {
  None = 0,
  FarLeg,
  Tail,
  Body,
  NearLeg,
  Neck,
  Mane,
  Head,
  Ear,
}

interface Capsule {
  ax: number;
  ay: number;
  bx: number;
  by: number;
  r: number;
}

/** Horse geometry in local units: u forward (facing direction), v up from the ground, 1 = horse height. */
interface HorseGeometry {
  body: { cu: number; cv: number; a: number; b: number };
  farLegs: Capsule[];
  nearLegs: Capsule[];
  tail: Capsule;
  neck: Capsule;
  mane: Capsule;
  head: Capsule;
  ear: Capsule;
  /** Local bounding range, before inflation. */
  uMin: number;
  uMax: number;
  vMin: number;
  vMax: number;
}

function capsule(ax: number, ay: number, bx: number, by: number, r: number): Capsule {
  return { ax, ay, bx, by, r };
}

function horseGeometry(horse: SceneHorse, pose: HorsePose): HorseGeometry {
  const len = horse.build.length;
  const legTop = 0.5 * horse.build.legLength;
  const swing = (offset: number): number => 0.09 * Math.sin(pose.gaitPhase + offset);
  const leg = (u: number, offset: number): Capsule => capsule(u, legTop, u + swing(offset), 0.035, 0.043);
  return {
    body: { cu: 0, cv: legTop + 0.09, a: 0.42 * len, b: 0.165 },
    farLegs: [leg(0.2 * len, Math.PI), leg(-0.2 * len, 0)],
    nearLegs: [leg(0.28 * len, 0), leg(-0.28 * len, Math.PI)],
    tail: capsule(-0.41 * len, legTop + 0.16, -0.5 * len, legTop - 0.2, 0.042),
    neck: capsule(0.3 * len, legTop + 0.13, 0.5 * len, legTop + 0.39, 0.085),
    mane: capsule(0.26 * len, legTop + 0.17, 0.46 * len, legTop + 0.43, 0.036),
    head: capsule(0.52 * len, legTop + 0.41, 0.7 * len, legTop + 0.27, 0.06),
    ear: capsule(0.5 * len, legTop + 0.44, 0.49 * len, legTop + 0.51, 0.022),
    uMin: -0.56 * len,
    uMax: 0.78 * len,
    vMin: -0.02,
    vMax: legTop + 0.54,
  };
}

function inCapsule(c: Capsule, u: number, v: number, inflate: number): boolean {
  const dx = c.bx - c.ax;
  const dy = c.by - c.ay;
  const lengthSq = dx * dx + dy * dy;
  const t = lengthSq > 0 ? Math.min(1, Math.max(0, ((u - c.ax) * dx + (v - c.ay) * dy) / lengthSq)) : 0;
  const px = c.ax + t * dx - u;
  const py = c.ay + t * dy - v;
  const r = c.r + inflate;
  return px * px + py * py <= r * r;
}

/** Which part covers local point (u, v); parts painted later win. */
function partAt(g: HorseGeometry, u: number, v: number, inflate: number): Part {
  if (inCapsule(g.ear, u, v, inflate)) return Part.Ear;
  if (inCapsule(g.head, u, v, inflate)) return Part.Head;
  if (inCapsule(g.mane, u, v, inflate)) return Part.Mane;
  if (inCapsule(g.neck, u, v, inflate)) return Part.Neck;
  for (const leg of g.nearLegs) if (inCapsule(leg, u, v, inflate)) return Part.NearLeg;
  const du = (u - g.body.cu) / (g.body.a + inflate);
  const dv = (v - g.body.cv) / (g.body.b + inflate);
  if (du * du + dv * dv <= 1) return Part.Body;
  if (inCapsule(g.tail, u, v, inflate)) return Part.Tail;
  for (const leg of g.farLegs) if (inCapsule(leg, u, v, inflate)) return Part.FarLeg;
  return Part.None;
}

const WHITE: Rgb = [238, 236, 230];

function patternColor(coat: Coat, g: HorseGeometry, u: number, v: number): Rgb | null {
  const pattern = coat.pattern;
  switch (pattern.kind) {
    case 'solid':
      return null;
    case 'patches':
      return Math.sin(u * 15 + 1.3) * Math.sin(v * 12 + 0.4) + 0.55 * Math.sin(u * 6 - v * 9) > 0.45 ? pattern.color : null;
    case 'spots': {
      const row = Math.floor(v / pattern.spacing);
      const shifted = u + (row % 2 === 0 ? 0 : pattern.spacing / 2);
      const du = shifted - (Math.floor(shifted / pattern.spacing) + 0.5) * pattern.spacing;
      const dv = v - (row + 0.5) * pattern.spacing;
      return du * du + dv * dv <= pattern.radius * pattern.radius ? pattern.color : null;
    }
    case 'dorsal':
      return v > g.body.cv + g.body.b - 0.035 && Math.abs(u) < g.body.a * 0.85 ? pattern.color : null;
  }
}

function faceMarking(coat: Coat, g: HorseGeometry, u: number, v: number): boolean {
  if (coat.face === 'none') return false;
  const h = g.head;
  if (coat.face === 'star') {
    const cu = h.ax + 0.15 * (h.bx - h.ax);
    const cv = h.ay + 0.15 * (h.by - h.ay) + 0.02;
    return (u - cu) ** 2 + (v - cv) ** 2 <= 0.022 ** 2;
  }
  return inCapsule({ ax: h.ax + 0.02, ay: h.ay + 0.02, bx: h.bx + 0.01, by: h.by + 0.01, r: 0.018 }, u, v, 0);
}

function horseColor(coat: Coat, g: HorseGeometry, part: Part, u: number, v: number): Rgb {
  switch (part) {
    case Part.Mane:
    case Part.Tail:
      return coat.mane;
    case Part.Ear:
      return coat.body;
    case Part.Head:
      return faceMarking(coat, g, u, v) ? WHITE : coat.body;
    case Part.NearLeg:
    case Part.FarLeg:
      if (v < 0.22) return coat.lowerLegs;
      return patternColor(coat, g, u, v) ?? coat.body;
    default:
      return patternColor(coat, g, u, v) ?? coat.body;
  }
}

function shade(part: Part, v: number): number {
  const light = 0.8 + 0.28 * Math.min(1, Math.max(0, (v - 0.4) / 0.45));
  return part === Part.FarLeg ? light * 0.82 : light;
}

/** Static textured grass, computed once per scene. */
export function renderBackground(scene: Scene): Uint8Array {
  const { width, height, seed } = scene.options;
  const random = seededRandom(seed ^ 0x5eed);
  const phaseA = random.between(0, 6.28);
  const phaseB = random.between(0, 6.28);
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const wave = 0.5 * Math.sin(x * 0.045 + Math.sin(y * 0.03 + phaseA) * 2) + 0.5 * Math.sin(y * 0.11 + x * 0.013 + phaseB);
      const stripe = Math.floor((x + y * 0.6) / 64) % 2 === 0 ? 1 : -1;
      const grain = random.between(-0.5, 0.5);
      const t = wave * 0.7 + stripe * 0.4 + grain;
      const offset = (y * width + x) * 3;
      pixels[offset] = GRASS_RGB[0] + t * 5;
      pixels[offset + 1] = GRASS_RGB[1] + t * 9;
      pixels[offset + 2] = GRASS_RGB[2] + t * 4;
    }
  }
  return pixels;
}

/**
 * Renders frames of one scene. Reuses its buffers: `renderFrame` overwrites the RGB buffer it
 * returns unless a target is given.
 */
export class SceneRenderer {
  readonly width: number;
  readonly height: number;
  private readonly background: Uint8Array;
  private readonly rgb: Uint8Array;
  /** Per pixel: id of the horse seen there, 0 for grass. */
  private readonly owner: Uint8Array;

  constructor(readonly scene: Scene) {
    this.width = scene.options.width;
    this.height = scene.options.height;
    this.background = renderBackground(scene);
    this.rgb = new Uint8Array(this.width * this.height * 3);
    this.owner = new Uint8Array(this.width * this.height);
  }

  /** Renders 0-based stream frame `frameIndex` into `target` (default: an internal buffer). */
  renderFrame(frameIndex: number, target: Uint8Array = this.rgb): { rgb: Uint8Array; truth: FrameTruth } {
    const timeS = frameTime(this.scene, frameIndex);
    return { rgb: target, truth: this.renderAt(timeS, frameIndex, target) };
  }

  private renderAt(timeS: number, frameIndex: number, rgb: Uint8Array): FrameTruth {
    rgb.set(this.background);
    this.owner.fill(0);
    const poses = scenePosesAt(this.scene, timeS);
    for (const pose of poses) this.drawShadow(pose, rgb);
    const silhouettes = new Map<number, { box: Box; pixels: number; inFrame: number }>();
    for (const pose of poses) {
      const horse = this.scene.horses[pose.id - 1] as SceneHorse;
      silhouettes.set(pose.id, this.drawHorse(horse, pose, rgb));
    }
    const visible = new Map<number, number>();
    for (let index = 0; index < this.owner.length; index++) {
      const id = this.owner[index] as number;
      if (id !== 0) visible.set(id, (visible.get(id) ?? 0) + 1);
    }
    const horses: HorseTruth[] = [];
    for (const [id, silhouette] of [...silhouettes.entries()].sort((a, b) => a[0] - b[0])) {
      if (silhouette.inFrame === 0 || silhouette.pixels === 0) continue;
      horses.push({
        id,
        box: silhouette.box,
        visibility: (visible.get(id) ?? 0) / silhouette.pixels,
        inFrameFraction: silhouette.inFrame / silhouette.pixels,
      });
    }
    return { frameIndex, timeS, horses };
  }

  private drawShadow(pose: HorsePose, rgb: Uint8Array): void {
    const a = pose.size * 0.5;
    const b = pose.size * 0.06;
    const x0 = Math.max(0, Math.floor(pose.groundX - a));
    const x1 = Math.min(this.width - 1, Math.ceil(pose.groundX + a));
    const y0 = Math.max(0, Math.floor(pose.groundY - b));
    const y1 = Math.min(this.height - 1, Math.ceil(pose.groundY + b));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const du = (x - pose.groundX) / a;
        const dv = (y - pose.groundY) / b;
        if (du * du + dv * dv > 1) continue;
        const offset = (y * this.width + x) * 3;
        rgb[offset] = (rgb[offset] as number) * 0.78;
        rgb[offset + 1] = (rgb[offset + 1] as number) * 0.78;
        rgb[offset + 2] = (rgb[offset + 2] as number) * 0.78;
      }
    }
  }

  /** Draws one horse with its halo; returns its full (unclipped) silhouette measures, box clipped to the frame. */
  private drawHorse(horse: SceneHorse, pose: HorsePose, rgb: Uint8Array): { box: Box; pixels: number; inFrame: number } {
    const g = horseGeometry(horse, pose);
    const scale = pose.size;
    const halo = HALO_PX / scale;
    const uToX = (u: number): number => pose.groundX + pose.facing * u * scale;
    const xa = uToX(g.uMin - halo);
    const xb = uToX(g.uMax + halo);
    const left = Math.floor(Math.min(xa, xb));
    const right = Math.ceil(Math.max(xa, xb));
    const top = Math.floor(pose.groundY - (g.vMax + halo) * scale);
    const bottom = Math.ceil(pose.groundY - (g.vMin - halo) * scale);
    let pixels = 0;
    let inFrame = 0;
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    for (let y = top; y <= bottom; y++) {
      const v = (pose.groundY - (y + 0.5)) / scale;
      const rowInFrame = y >= 0 && y < this.height;
      for (let x = left; x <= right; x++) {
        const u = ((x + 0.5 - pose.groundX) * pose.facing) / scale;
        const part = partAt(g, u, v, 0);
        const pixelInFrame = rowInFrame && x >= 0 && x < this.width;
        if (part === Part.None) {
          if (pixelInFrame && partAt(g, u, v, halo) !== Part.None) {
            const index = y * this.width + x;
            const offset = index * 3;
            rgb[offset] = GRASS_RGB[0];
            rgb[offset + 1] = GRASS_RGB[1];
            rgb[offset + 2] = GRASS_RGB[2];
            this.owner[index] = 0;
          }
          continue;
        }
        pixels++;
        if (!pixelInFrame) continue;
        inFrame++;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
        const color = horseColor(horse.coat, g, part, u, v);
        const light = shade(part, v);
        const index = y * this.width + x;
        const offset = index * 3;
        rgb[offset] = Math.min(255, color[0] * light);
        rgb[offset + 1] = Math.min(255, color[1] * light);
        rgb[offset + 2] = Math.min(255, color[2] * light);
        this.owner[index] = horse.id;
      }
    }
    const box: Box = inFrame > 0 ? { x: minX, y: minY, w: maxX - minX + 1, h: maxY - minY + 1 } : { x: 0, y: 0, w: 0, h: 0 };
    return { box, pixels, inFrame };
  }
}
