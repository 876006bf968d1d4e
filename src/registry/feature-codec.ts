import os from 'node:os';
import { PaddockError } from '../errors/index.ts';
import type { FeatureBank } from '../tracking/index.ts';

/**
 * Float32 vectors as little-endian bytes, read back bit-exact. On little-endian hosts (x86,
 * ARM) this is a plain memory copy; elsewhere DataView keeps the stored bytes the same.
 */
const LITTLE_ENDIAN_HOST = os.endianness() === 'LE';

export function encodeVectors(vectors: readonly Float32Array[], dim: number): Buffer {
  const bytes = Buffer.allocUnsafe(vectors.length * dim * 4);
  if (LITTLE_ENDIAN_HOST) {
    vectors.forEach((vector, v) => {
      if (vector.length !== dim) throw new PaddockError('INTERNAL', `feature vector has ${vector.length} values, expected ${dim}`);
      bytes.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), v * dim * 4);
    });
    return bytes;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (const vector of vectors) {
    if (vector.length !== dim) throw new PaddockError('INTERNAL', `feature vector has ${vector.length} values, expected ${dim}`);
    for (let i = 0; i < dim; i += 1) {
      view.setFloat32(offset, vector[i]!, true);
      offset += 4;
    }
  }
  return bytes;
}

export function decodeVectors(bytes: Uint8Array, dim: number, count: number): Float32Array[] {
  if (bytes.byteLength !== dim * count * 4) {
    throw new PaddockError('INTERNAL', `feature data has ${bytes.byteLength} bytes, expected ${dim * count * 4}`);
  }
  if (LITTLE_ENDIAN_HOST) {
    // One contiguous copy; each vector is a view into it.
    const values = new Float32Array(dim * count);
    new Uint8Array(values.buffer).set(bytes);
    return Array.from({ length: count }, (_, v) => values.subarray(v * dim, (v + 1) * dim));
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vectors: Float32Array[] = [];
  let offset = 0;
  for (let v = 0; v < count; v += 1) {
    const vector = new Float32Array(dim);
    for (let i = 0; i < dim; i += 1) {
      vector[i] = view.getFloat32(offset, true);
      offset += 4;
    }
    vectors.push(vector);
  }
  return vectors;
}

export interface EncodedFeatureBank {
  dim: number;
  first: Buffer;
  mean: Buffer;
  exemplars: Buffer;
  exemplarCount: number;
}

export function encodeFeatureBank(bank: FeatureBank): EncodedFeatureBank {
  const dim = bank.first.length;
  return {
    dim,
    first: encodeVectors([bank.first], dim),
    mean: encodeVectors([bank.mean], dim),
    exemplars: encodeVectors(bank.exemplars, dim),
    exemplarCount: bank.exemplars.length,
  };
}

export function decodeFeatureBank(encoded: { dim: number; first: Uint8Array; mean: Uint8Array; exemplars: Uint8Array; exemplarCount: number }): FeatureBank {
  return {
    first: decodeVectors(encoded.first, encoded.dim, 1)[0]!,
    mean: decodeVectors(encoded.mean, encoded.dim, 1)[0]!,
    exemplars: decodeVectors(encoded.exemplars, encoded.dim, encoded.exemplarCount),
  };
}
