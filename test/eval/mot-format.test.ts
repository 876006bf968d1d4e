import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MotFormatError, parseMotFile, readMotFile, writeMotRows, type MotRow } from '../../src/eval/index.ts';
import { PaddockError } from '../../src/errors/index.ts';

function parseError(text: string): PaddockError {
  try {
    parseMotFile(text, 'f.txt');
  } catch (error) {
    expect(error).toBeInstanceOf(MotFormatError);
    return error as PaddockError;
  }
  throw new Error('expected a parse error');
}

describe('parseMotFile', () => {
  it('reads comma, comma+space and whitespace separated rows, skipping blank lines', () => {
    const rows = parseMotFile('1,2,3.5,4,5,6,0.9,-1,-1,-1\r\n\n  2, 7, -1.25, 0, 10, 20, 1\n3\t8 1 2 3 4 -1 5 6\n');
    expect(rows).toEqual([
      { frame: 1, id: 2, x: 3.5, y: 4, w: 5, h: 6, conf: 0.9, extra: [-1, -1, -1] },
      { frame: 2, id: 7, x: -1.25, y: 0, w: 10, h: 20, conf: 1 },
      { frame: 3, id: 8, x: 1, y: 2, w: 3, h: 4, conf: -1, extra: [5, 6] },
    ]);
  });

  it('returns no rows for an empty file', () => {
    expect(parseMotFile('')).toEqual([]);
    expect(parseMotFile('\n  \n')).toEqual([]);
  });

  it('names the source and line of a bad row', () => {
    expect(parseError('1,1,0,0,1,1,1\n1,2,0,0,1,1\n').message).toBe('f.txt:2: expected at least 7 fields (frame,id,x,y,w,h,conf), found 6');
    expect(parseError('1,1,0,abc,1,1,1').message).toBe('f.txt:1: y is not a finite number: "abc"');
    expect(parseError('1,1,0,0,1,1,1,0x10').message).toContain('column 8 is not a finite number');
    expect(parseError('\n0,1,0,0,1,1,1').message).toBe('f.txt:2: frame must be an integer ≥ 1 (frames are 1-based), found "0"');
    expect(parseError('1.5,1,0,0,1,1,1').message).toContain('frame must be an integer');
    expect(parseError('1,2.5,0,0,1,1,1').message).toBe('f.txt:1: id must be an integer, found "2.5"');
    expect(parseError('1,1,0,0,1,1,nan').message).toContain('conf is not a finite number');
    const duplicate = parseError('1,4,0,0,1,1,1\n2,4,0,0,1,1,1\n1,4,5,5,1,1,1');
    expect(duplicate.message).toBe('f.txt:3: id 4 appears twice in frame 1 (first on line 1)');
    expect(duplicate.code).toBe('MOT_INVALID');
  });
});

describe('writeMotRows', () => {
  it('writes 10 columns and reads back the same rows', () => {
    const rows: MotRow[] = [
      { frame: 1, id: 3, x: 10.5, y: 0.1 + 0.2, w: 40, h: 1e-7, conf: 0.87 },
      { frame: 12, id: -1, x: -3, y: 4, w: 5, h: 6, conf: 1, extra: [7, 8, 9] },
    ];
    const text = writeMotRows(rows);
    expect(text.split('\n')[0]).toBe('1,3,10.5,0.30000000000000004,40,1e-7,0.87,-1,-1,-1');
    const back = parseMotFile(text);
    expect(back[0]).toEqual({ ...rows[0], extra: [-1, -1, -1] });
    expect(back[1]).toEqual(rows[1]);
  });
});

describe('readMotFile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paddock-eval-'));

  it('reads a file', async () => {
    const file = path.join(dir, 'ok.txt');
    writeFileSync(file, '1,1,0,0,10,10,1,-1,-1,-1\n');
    expect(await readMotFile(file)).toHaveLength(1);
  });

  it('refuses a missing file, a directory and bad content with the path in the message', async () => {
    const missing = path.join(dir, 'missing.txt');
    await expect(readMotFile(missing)).rejects.toMatchObject({ code: 'NOT_FOUND', message: `${missing}: no such file` });
    await expect(readMotFile(dir)).rejects.toMatchObject({ code: 'FILE_UNREADABLE' });
    const bad = path.join(dir, 'bad.txt');
    writeFileSync(bad, '1,1,0,0,10,10,1\n2,1,0,0,10\n');
    await expect(readMotFile(bad)).rejects.toMatchObject({ code: 'MOT_INVALID', message: expect.stringContaining(`${bad}:2:`) });
  });
});
