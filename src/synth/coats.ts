/**
 * Horse appearances for synthetic scenes: coat colour, points (mane, tail, lower legs), markings
 * and a pattern. Every colour is kept well away from grass green (the project's detector tells
 * horses from grass by colour) and from the letterbox grey 114.
 */
export type Rgb = readonly [number, number, number];

export type CoatPattern =
  | { kind: 'solid' }
  /** Irregular white patches (pinto / paint). */
  | { kind: 'patches'; color: Rgb }
  /** A regular lattice of round spots (dapple grey, appaloosa). */
  | { kind: 'spots'; color: Rgb; spacing: number; radius: number }
  /** A dark stripe along the back (dun). */
  | { kind: 'dorsal'; color: Rgb };

export interface Coat {
  name: string;
  body: Rgb;
  mane: Rgb;
  lowerLegs: Rgb;
  /** White face marking: none, a small star or a blaze down the face. */
  face: 'none' | 'star' | 'blaze';
  pattern: CoatPattern;
}

const WHITE: Rgb = [238, 236, 230];

/** Ten clearly different coats; scenes use them in this order. */
export const COATS: readonly Coat[] = [
  { name: 'bay', body: [128, 70, 40], mane: [28, 22, 20], lowerLegs: [34, 26, 22], face: 'none', pattern: { kind: 'solid' } },
  {
    name: 'dapple grey',
    body: [206, 206, 212],
    mane: [150, 150, 158],
    lowerLegs: [165, 165, 172],
    face: 'none',
    pattern: { kind: 'spots', color: [160, 160, 168], spacing: 0.09, radius: 0.028 },
  },
  { name: 'chestnut', body: [178, 92, 44], mane: [226, 196, 140], lowerLegs: WHITE, face: 'blaze', pattern: { kind: 'solid' } },
  { name: 'black', body: [34, 31, 34], mane: [16, 15, 16], lowerLegs: WHITE, face: 'star', pattern: { kind: 'solid' } },
  { name: 'palomino', body: [218, 180, 102], mane: [246, 241, 226], lowerLegs: [218, 180, 102], face: 'blaze', pattern: { kind: 'solid' } },
  { name: 'pinto', body: [118, 64, 38], mane: [40, 30, 26], lowerLegs: WHITE, face: 'blaze', pattern: { kind: 'patches', color: WHITE } },
  {
    name: 'appaloosa',
    body: [236, 230, 220],
    mane: [70, 52, 42],
    lowerLegs: [90, 70, 56],
    face: 'none',
    pattern: { kind: 'spots', color: [72, 50, 38], spacing: 0.12, radius: 0.035 },
  },
  { name: 'dun', body: [196, 166, 112], mane: [58, 44, 34], lowerLegs: [58, 44, 34], face: 'none', pattern: { kind: 'dorsal', color: [70, 52, 38] } },
  { name: 'red roan', body: [162, 104, 104], mane: [96, 40, 30], lowerLegs: [96, 40, 30], face: 'star', pattern: { kind: 'solid' } },
  { name: 'cremello', body: [240, 226, 196], mane: [250, 246, 236], lowerLegs: [240, 226, 196], face: 'none', pattern: { kind: 'solid' } },
];

export const MAX_HORSES = COATS.length;

/** The near-identical twin of a coat: same colours, only a small star on the face. */
export function nearTwinOf(coat: Coat): Coat {
  return { ...coat, name: `${coat.name} (twin)`, face: coat.face === 'star' ? 'none' : 'star' };
}
