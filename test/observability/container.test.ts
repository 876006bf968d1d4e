import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { repoPath, runTool, toolAvailable } from './tools.ts';

interface ComposeService {
  build?: unknown;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  stop_grace_period?: string;
}

const compose = parseYaml(readFileSync(repoPath('docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(repoPath('Dockerfile'), 'utf8');
const dockerignore = readFileSync(repoPath('.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/** Instructions of a Dockerfile with continuation lines joined. */
function instructions(text: string): { keyword: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const space = line.indexOf(' ');
      return { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    });
}

describe('docker-compose.yml', () => {
  it('runs the whole stack, each long-running service with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['grafana', 'migrate', 'nats', 'paddock', 'postgres', 'prometheus', 'redis']);
    for (const [name, service] of Object.entries(compose.services)) {
      if (name !== 'migrate') expect(service.healthcheck?.test.length, name).toBeGreaterThan(0);
    }
  });

  it('keeps JetStream on a volume and mounts the models read-only', () => {
    const command = compose.services.nats?.command ?? [];
    expect(command).toContain('-js');
    const storeDir = command[command.indexOf('-sd') + 1];
    expect(compose.services.nats?.volumes).toContain(`nats-data:${storeDir}`);
    expect(compose.volumes).toHaveProperty('nats-data');
    const paddock = compose.services.paddock;
    expect(paddock?.command).toEqual(['node', 'bin/paddock.mjs', 'run']);
    expect(paddock?.volumes).toContain('./models/build:/app/models/build:ro');
    expect(paddock?.read_only).toBe(true);
    expect(paddock?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    expect(Number.parseInt(paddock?.stop_grace_period ?? '0', 10)).toBeGreaterThan(30);
  });

  it('gives paddock an environment that its configuration accepts', () => {
    const environment = Object.fromEntries(
      Object.entries(compose.services.paddock?.environment ?? {}).map(([key, value]) => [key, value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]),
    );
    const config = loadConfig(environment);
    expect(config.databaseUrl).toMatch(/^postgres:\/\/paddock:.*@postgres:5432\/paddock$/);
    expect(config.nats.url).toBe('nats://nats:4222');
  });

  it('mounts the Prometheus configuration from deploy/prometheus', () => {
    expect(compose.services.prometheus?.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    for (const mount of Object.values(compose.services).flatMap((service) => service.volumes ?? [])) {
      const source = mount.split(':')[0] ?? '';
      if (source.startsWith('./') && source !== './models/build') expect(existsSync(repoPath(source)), source).toBe(true);
    }
  });

  it.runIf(toolAvailable('docker-compose', 'docker-compose'))('passes docker-compose config validation', () => {
    const result = runTool('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q']);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('Dockerfile', () => {
  const steps = instructions(dockerfile);
  const stages = steps.filter((step) => step.keyword === 'FROM');
  const finalStage = steps.slice(steps.map((step) => step.keyword).lastIndexOf('FROM'));

  it('builds in stages and installs dependencies without the ONNX Runtime download', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev/);
    expect(finalStage.some((step) => step.keyword === 'RUN' && /apt-get install .*\bffmpeg\b/.test(step.args))).toBe(true);
  });

  it('runs paddock as a non-root user with a health check', () => {
    const user = finalStage.filter((step) => step.keyword === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(finalStage.find((step) => step.keyword === 'CMD')?.args).toBe('["node", "bin/paddock.mjs", "run"]');
    expect(finalStage.find((step) => step.keyword === 'HEALTHCHECK')?.args).toContain('/healthz');
  });

  it('copies only paths that exist and that .dockerignore lets through', () => {
    const sources = steps
      .filter((step) => step.keyword === 'COPY' && !step.args.startsWith('--from'))
      .flatMap((step) => step.args.split(/\s+/).slice(0, -1));
    expect(sources).toContain('package-lock.json');
    for (const source of sources) {
      expect(existsSync(repoPath(source)), source).toBe(true);
      expect(dockerignore, source).not.toContain(source);
    }
    for (const excluded of ['node_modules', '.git', 'data', 'models/build']) expect(dockerignore).toContain(excluded);
  });
});
