/**
 * Horse avatars: while a chunk is tracked, BestThumbnails keeps one crop per horse (the best
 * box area × confidence so far); when the chunk ends each crop is encoded once as a ≤ 50 KB JPEG.
 */
export { thumbnailQuality, cropForThumbnail, cropRegion, THUMBNAIL_MARGIN, type ThumbnailCrop } from './crop.ts';
export { BestThumbnails } from './best.ts';
export { encodeSightingThumbnail, encodeThumbnail, MAX_THUMBNAIL_BYTES, SIGHTING_THUMBNAIL_SIZE, TARGET_THUMBNAIL_BYTES, THUMBNAIL_SIZE } from './encode.ts';
