import { PaddockError, type ErrorCode } from '../errors/index.ts';

/** A PaddockError that names the chunk and its URI in both message and details. */
export function videoError(
  code: ErrorCode,
  chunk: { chunkId: string; uri: string },
  problem: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): PaddockError {
  return new PaddockError(code, `chunk ${chunk.chunkId} (${chunk.uri}): ${problem}`, {
    details: { chunkId: chunk.chunkId, uri: chunk.uri, ...details },
    cause,
  });
}
