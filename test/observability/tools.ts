import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config/index.ts';

export const REPO = PROJECT_ROOT;
export const repoPath = (...parts: string[]): string => path.join(PROJECT_ROOT, ...parts);

/**
 * Whether an operations tool (promtool, docker-compose, systemd-analyze) is installed. Outside CI
 * a missing tool skips its test; under CI=true it is a failure, so CI never passes on skips.
 */
export function toolAvailable(command: string, aptPackage: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
  if (!found && process.env.CI === 'true') {
    throw new Error(`${command} is missing (apt-get install -y ${aptPackage}); operations tests may not skip under CI=true`);
  }
  return found;
}

export interface ToolResult {
  status: number | null;
  output: string;
}

export function runTool(
  command: string,
  args: string[],
  options: { input?: string; cwd?: string; env?: Record<string, string> } = {},
): ToolResult {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    input: options.input,
    cwd: options.cwd ?? REPO,
    env: { ...process.env, ...options.env },
    timeout: 30_000,
  });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
