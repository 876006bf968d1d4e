/**
 * MOTChallenge text rows: `frame,id,x,y,w,h,conf,a,b,c` (frame 1-based, box top-left + size in
 * pixels). Pure parsing and writing; reading files lives in `mot-io.ts`.
 *
 * Accepted like py-motmetrics' `load_motchallenge`: fields separated by commas and/or
 * whitespace, blank lines skipped. Stricter where py-motmetrics would silently produce nonsense:
 * fewer than 7 fields, a non-numeric field, a frame that is not a positive integer, an ID that
 * is not an integer, or the same ID twice in one frame (TrackEval refuses that too) is an error
 * naming the source and line.
 */
import { PaddockError } from '../errors/index.ts';

export interface MotRow {
  /** 1-based frame number. */
  frame: number;
  /** Track (prediction) or object (ground truth) ID. */
  id: number;
  x: number;
  y: number;
  w: number;
  h: number;
  /** Column 7: detection confidence, or in ground truth the "consider this row" flag (0/1). */
  conf: number;
  /** Columns 8+ as numbers (world x/y/z in MOT15, class/visibility in MOT16+); kept, never used. */
  extra?: readonly number[];
}

const MIN_FIELDS = 7;
const FIELD_SEPARATOR = /\s*,\s*|\s+/;
const DEFAULT_EXTRA: readonly number[] = [-1, -1, -1];

export class MotFormatError extends PaddockError {
  override readonly name = 'MotFormatError';
  constructor(source: string, line: number, problem: string) {
    super('MOT_INVALID', `${source}:${line}: ${problem}`, { details: { source, line } });
  }
}

/**
 * Parses MOTChallenge text. `source` names the input in error messages (a path, or `<gt>`).
 * Rows keep the file's order; that order decides tie-breaks in the matching, as in the libraries.
 */
export function parseMotFile(text: string, source = '<input>'): MotRow[] {
  const rows: MotRow[] = [];
  // frame → (id → line) to refuse duplicate IDs within a frame with both line numbers.
  const seen = new Map<number, Map<number, number>>();
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index += 1) {
    const trimmed = lines[index]!.trim();
    if (trimmed === '') continue;
    const lineNumber = index + 1;
    const fields = trimmed.split(FIELD_SEPARATOR);
    if (fields.length < MIN_FIELDS) {
      throw new MotFormatError(source, lineNumber, `expected at least ${MIN_FIELDS} fields (frame,id,x,y,w,h,conf), found ${fields.length}`);
    }
    const values = fields.map((field, column) => parseNumber(field, column, source, lineNumber));
    const [frame, id, x, y, w, h, conf] = values as [number, number, number, number, number, number, number];
    if (!Number.isInteger(frame) || frame < 1) {
      throw new MotFormatError(source, lineNumber, `frame must be an integer ≥ 1 (frames are 1-based), found "${fields[0]}"`);
    }
    if (!Number.isSafeInteger(id)) {
      throw new MotFormatError(source, lineNumber, `id must be an integer, found "${fields[1]}"`);
    }
    let idsInFrame = seen.get(frame);
    if (idsInFrame === undefined) {
      idsInFrame = new Map();
      seen.set(frame, idsInFrame);
    }
    const earlier = idsInFrame.get(id);
    if (earlier !== undefined) {
      throw new MotFormatError(source, lineNumber, `id ${id} appears twice in frame ${frame} (first on line ${earlier})`);
    }
    idsInFrame.set(id, lineNumber);
    const row: MotRow = { frame, id, x, y, w, h, conf };
    if (values.length > MIN_FIELDS) row.extra = values.slice(MIN_FIELDS);
    rows.push(row);
  }
  return rows;
}

const COLUMN_NAMES = ['frame', 'id', 'x', 'y', 'w', 'h', 'conf'];

function parseNumber(field: string, column: number, source: string, line: number): number {
  // Number('') is 0 and Number('0x10') is 16: only plain decimal notation is a MOT number.
  const value = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(field) ? Number(field) : Number.NaN;
  if (!Number.isFinite(value)) {
    const name = COLUMN_NAMES[column] ?? `column ${column + 1}`;
    throw new MotFormatError(source, line, `${name} is not a finite number: "${field}"`);
  }
  return value;
}

/** One line per row, `frame,id,x,y,w,h,conf,…` with `-1,-1,-1` when a row has no extra columns. */
export function writeMotRows(rows: readonly MotRow[]): string {
  let out = '';
  for (const row of rows) {
    const extra = row.extra ?? DEFAULT_EXTRA;
    out += `${row.frame},${row.id},${fmt(row.x)},${fmt(row.y)},${fmt(row.w)},${fmt(row.h)},${fmt(row.conf)}`;
    for (const value of extra) out += `,${fmt(value)}`;
    out += '\n';
  }
  return out;
}

/** Shortest decimal that reads back to the same double (no exponent for ordinary pixel values). */
function fmt(value: number): string {
  return Object.is(value, -0) ? '0' : String(value);
}
