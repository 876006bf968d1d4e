import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.ts';
import { MOT_DATA_DIR } from './helpers.ts';

const run = promisify(execFile);
const BIN = path.join(PROJECT_ROOT, 'bin', 'paddock.mjs');
const GT = path.join(MOT_DATA_DIR, 'TUD-Campus', 'gt.txt');
const PRED = path.join(MOT_DATA_DIR, 'TUD-Campus', 'test.txt');

async function paddock(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('paddock eval', () => {
  it('prints one JSON object with --json', async () => {
    const { code, stdout } = await paddock('eval', '--gt', GT, '--pred', PRED, '--json');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(result).toMatchObject({ id_switches: 7, false_positives: 13, false_negatives: 150, fragmentations: 7, mostly_tracked: 1 });
    expect(result.mota).toBeCloseTo(0.526462, 6);
    expect(result.motp_distance).toBeCloseTo(0.277201, 6);
    expect(result.motp_iou).toBeCloseTo(1 - 0.277201, 6);
    expect(result.idf1).toBeCloseTo(0.557659, 6);
    expect(result.hota).toBeCloseTo(0.391397, 6);
  });

  it('prints a table by default', async () => {
    const { code, stdout } = await paddock('eval', '--gt', GT, '--pred', PRED);
    expect(code).toBe(0);
    expect(stdout).toMatch(/MOTA\s+52\.65 %/);
    expect(stdout).toMatch(/IDF1\s+55\.77 %/);
    expect(stdout).toMatch(/HOTA\s+39\.14 %/);
  });

  it('exits 2 on bad usage, a missing or a malformed file, with one line naming it', async () => {
    const [usage, badNumber, missing, malformed] = await Promise.all([
      paddock('eval', '--gt', GT),
      paddock('eval', '--gt', GT, '--pred', PRED, '--gt-min-conf', 'high'),
      paddock('eval', '--gt', '/nonexistent/gt.txt', '--pred', PRED),
      paddock('eval', '--gt', BIN, '--pred', PRED),
    ]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--pred');
    expect(badNumber.code).toBe(2);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('paddock: /nonexistent/gt.txt: no such file');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain(`${BIN}:1:`);
  });
});
