import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoPath, runTool, toolAvailable } from './tools.ts';

const unitText = readFileSync(repoPath('deploy', 'systemd', 'paddock.service'), 'utf8');

function directives(text: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match === null) continue;
    const [, key = '', value = ''] = match;
    result.set(key, [...(result.get(key) ?? []), value]);
  }
  return result;
}

/** The unit in a scratch unit directory, with ExecStart pointing at this machine's node. */
function scratchUnit(withGpuDropIn: boolean): { dir: string; unit: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'paddock-systemd-'));
  const unit = path.join(dir, 'paddock.service');
  writeFileSync(unit, unitText.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
  if (withGpuDropIn) {
    mkdirSync(path.join(dir, 'paddock.service.d'));
    copyFileSync(repoPath('deploy', 'systemd', 'paddock-gpu.conf'), path.join(dir, 'paddock.service.d', 'gpu.conf'));
  }
  return { dir, unit };
}

describe('systemd unit', () => {
  it('restarts on failure, drains longer than the daemon deadline, and is hardened', () => {
    const unit = directives(unitText);
    expect(unit.get('ExecStart')?.[0]).toMatch(/\/bin\/paddock\.mjs run$/);
    expect(unit.get('Restart')).toEqual(['on-failure']);
    expect(Number.parseInt(unit.get('TimeoutStopSec')?.[0] ?? '0', 10)).toBeGreaterThan(30);
    expect(unit.get('EnvironmentFile')?.[0]).toMatch(/paddock\.env$/);
    for (const [key, value] of Object.entries({ NoNewPrivileges: 'yes', ProtectSystem: 'strict', PrivateTmp: 'yes', ProtectHome: 'yes', StateDirectory: 'paddock' })) {
      expect(unit.get(key), key).toEqual([value]);
    }
  });
});

describe.runIf(toolAvailable('systemd-analyze', 'systemd'))('systemd-analyze', () => {
  it('verifies the unit, and with the GPU drop-in, without a single warning', () => {
    for (const withGpu of [false, true]) {
      const { dir } = scratchUnit(withGpu);
      const result = runTool('systemd-analyze', ['verify', 'paddock.service'], { cwd: dir, env: { SYSTEMD_UNIT_PATH: `${dir}:` } });
      expect(result.output, `gpu drop-in: ${withGpu}`).toBe('');
      expect(result.status).toBe(0);
    }
  });

  it('rates the sandbox exposure at 2.0 or better', () => {
    const { unit } = scratchUnit(false);
    const result = runTool('systemd-analyze', ['security', '--offline=true', '--threshold=20', '--no-pager', unit]);
    expect(result.output).toContain('Overall exposure level for paddock.service');
    expect(result.status, result.output.split('\n').slice(-3).join('\n')).toBe(0);
  });
});
