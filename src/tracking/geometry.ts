/** Box geometry used by association. */
import type { Box, CameraMotion } from './types.ts';

export function boxArea(box: Box): number {
  return Math.max(0, box.w) * Math.max(0, box.h);
}

/** Intersection over union of two boxes; 0 when either is empty. */
export function iou(a: Box, b: Box): number {
  const ix = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const iy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  if (ix <= 0 || iy <= 0) return 0;
  const intersection = ix * iy;
  const union = boxArea(a) + boxArea(b) - intersection;
  return union > 0 ? intersection / union : 0;
}

/**
 * Share of `a`'s area inside `b` grown on every side by `margin` × b's shorter side (0 when `a`
 * is empty): how much of `a` another box may hide.
 */
export function coverage(a: Box, b: Box, margin = 0): number {
  const grow = margin * Math.min(b.w, b.h);
  const ix = Math.min(a.x + a.w, b.x + b.w + grow) - Math.max(a.x, b.x - grow);
  const iy = Math.min(a.y + a.h, b.y + b.h + grow) - Math.max(a.y, b.y - grow);
  const area = boxArea(a);
  if (ix <= 0 || iy <= 0 || area <= 0) return 0;
  return (ix * iy) / area;
}

/** Distance between two boxes' nearest edges; 0 when they touch or overlap. */
export function boxGap(a: Box, b: Box): number {
  const dx = Math.max(0, a.x - (b.x + b.w), b.x - (a.x + a.w));
  const dy = Math.max(0, a.y - (b.y + b.h), b.y - (a.y + a.h));
  return Math.hypot(dx, dy);
}

/** Where the camera's motion between two frames moved a point's x: p' = scale · (p − centre) + centre + shift. */
export function warpX(x: number, motion: CameraMotion): number {
  return motion.scale * (x - motion.centreX) + motion.centreX + motion.tx;
}

/** The same for y. */
export function warpY(y: number, motion: CameraMotion): number {
  return motion.scale * (y - motion.centreY) + motion.centreY + motion.ty;
}

/** `box` where the camera's motion between two frames moved it: its centre warped, its size scaled. */
export function warpBox(box: Box, motion: CameraMotion): Box {
  const w = motion.scale * box.w;
  const h = motion.scale * box.h;
  return { x: warpX(box.x + box.w / 2, motion) - w / 2, y: warpY(box.y + box.h / 2, motion) - h / 2, w, h };
}
