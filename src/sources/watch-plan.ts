/** Pure decisions of the watched-folder source: chunk file order, sequence numbers, completeness. */

const CHUNK_FILE = /^[^.].*\.mp4$/i;
const LAST_NUMBER = /(\d+)(?!.*\d)/;
const nameOrder = new Intl.Collator('en', { numeric: true });

/** A visible `.mp4` file (hidden files and partial writes like `.x.mp4` are not chunks). */
export function isChunkFileName(name: string): boolean {
  return CHUNK_FILE.test(name);
}

/** Name order with numbers compared as numbers: chunk_9 before chunk_10. */
export function sortChunkNames(names: readonly string[]): string[] {
  return [...names].sort((a, b) => nameOrder.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The file name without its extension. */
export function chunkBaseName(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/** The last number in the file name (chunk_0007.mp4 → 7), or undefined when it has none. */
export function sequenceFromName(name: string): number | undefined {
  const digits = LAST_NUMBER.exec(chunkBaseName(name))?.[1];
  if (digits === undefined) return undefined;
  const value = Number(digits);
  return Number.isSafeInteger(value) ? value : undefined;
}

export interface FileObservation {
  size: number;
  /** When the size was last seen to change (or the file's mtime when first seen). */
  stableSinceMs: number;
}

/**
 * A file is complete when a later file of its stream exists (a segmenting writer opens the next
 * file after closing this one) or when it is non-empty and its size has not changed for `settleMs`.
 */
export function isFileComplete(file: FileObservation, nowMs: number, settleMs: number, laterFileExists: boolean): boolean {
  if (laterFileExists) return true;
  return file.size > 0 && nowMs - file.stableSinceMs >= settleMs;
}
