import { InvalidArgumentError } from 'commander';
import { isValidStreamId } from '../sources/index.ts';

/** Commander parser of `--stream <id>`: the stream-id rule of the contract, or exit 2. */
export function parseStreamIdOption(value: string): string {
  if (!isValidStreamId(value)) throw new InvalidArgumentError('expected 1-128 characters of A-Z a-z 0-9 _ -');
  return value;
}
