/** Appearance cues beside the deep embedding: the coat descriptor and its fusion with the embedding. Pure. */
export { coatDescriptor, COAT_DIMENSION, type RgbFrame } from './coat.ts';
export { fuseAppearance } from './fuse.ts';
