/**
 * Reading MOTChallenge files from disk: the only I/O in src/eval.
 */
import { readFile } from 'node:fs/promises';
import { NotFoundError, PaddockError } from '../errors/index.ts';
import { parseMotFile, type MotRow } from './mot-format.ts';

/** Reads and parses a MOTChallenge file; errors name the path (and line for bad content). */
export async function readMotFile(path: string): Promise<MotRow[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`${path}: no such file`, { path });
    throw new PaddockError('FILE_UNREADABLE', `${path}: cannot read (${code ?? String(error)})`, {
      cause: error,
      details: { path },
    });
  }
  return parseMotFile(text, path);
}
