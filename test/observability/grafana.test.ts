import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/http/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { METRIC } from '../../src/metrics/index.ts';
import { populatedMetrics, sampleNames } from './populated-metrics.ts';
import { repoPath, runTool, toolAvailable } from './tools.ts';

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
  fieldConfig?: { defaults?: { thresholds?: { steps?: { value: number | null }[] } } };
}

const dashboard = JSON.parse(readFileSync(repoPath('grafana', 'dashboards', 'paddock.json'), 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query: { query: string } | string; datasource?: { uid?: string } }[] };
};
const datasources = parseYaml(readFileSync(repoPath('grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as {
  datasources: { uid: string; type: string }[];
};

const queryPanels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]).filter((panel) => panel.type !== 'row');
const panelExprs = queryPanels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr ?? '' })));
const streamVariable = dashboard.templating.list.find((variable) => variable.name === 'stream');
const variableQuery = typeof streamVariable?.query === 'string' ? streamVariable.query : (streamVariable?.query.query ?? '');
const allExprs = [...panelExprs, { panel: 'variable stream', expr: variableQuery }];

/** Metric names in a PromQL expression: every identifier with paddock's prefix. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b(paddock_[a-zA-Z0-9_:]*)/g)].map((match) => match[1] ?? '');
}

let server: HttpServer;
let scrape = '';
beforeAll(async () => {
  server = createHttpServer({ metricsRegistry: populatedMetrics().registry, readiness: async () => ({ ready: true, checks: {} }), port: 0, host: '127.0.0.1', logger: silentLogger() });
  const { url } = await server.start();
  scrape = await (await fetch(`${url}/metrics`)).text();
});
afterAll(async () => {
  await server.stop();
});

describe('Grafana dashboard', () => {
  it('has queries, all on the provisioned Prometheus datasource', () => {
    expect(queryPanels.length).toBeGreaterThanOrEqual(12);
    const uid = datasources.datasources[0]?.uid;
    expect(datasources.datasources[0]?.type).toBe('prometheus');
    for (const panel of queryPanels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(panel.datasource?.uid, panel.title).toBe(uid);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe(uid);
    }
    expect(streamVariable?.datasource?.uid).toBe(uid);
  });

  it('queries only series that a real scrape of the daemon exposes', () => {
    const exposed = sampleNames(scrape);
    for (const { panel, expr } of allExprs) {
      const names = metricsIn(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(exposed.has(name), `${panel} queries ${name}, which /metrics does not expose`).toBe(true);
    }
  });

  it('filters every per-stream metric by the $stream variable', () => {
    const perStream = new Set<string>();
    for (const match of scrape.matchAll(/^(paddock_[a-zA-Z0-9_]*)\{[^}]*\bstream="/gm)) perStream.add(match[1] ?? '');
    expect(perStream.has(METRIC.queueDepth)).toBe(true);
    for (const { panel, expr } of panelExprs) {
      if (metricsIn(expr).some((name) => perStream.has(name))) expect(expr, panel).toContain('stream=~"$stream"');
    }
  });

  it('shows what an operator needs, with the 2 % overhead budget line', () => {
    const queried = new Set(allExprs.flatMap(({ expr }) => metricsIn(expr)));
    for (const name of [
      `${METRIC.chunks}`,
      `${METRIC.chunkDuration}_bucket`,
      `${METRIC.chunkOverheadRatio}_bucket`,
      METRIC.registryHorses,
      METRIC.reidDecisions,
      METRIC.queueDepth,
      METRIC.lag,
      METRIC.deadLetters,
      METRIC.errors,
      METRIC.actors,
      METRIC.executionProvider,
      `${METRIC.inference}_bucket`,
    ]) {
      expect(queried.has(name), name).toBe(true);
    }
    const budget = queryPanels.find((panel) => panel.title.includes('budget'));
    expect(budget?.fieldConfig?.defaults?.thresholds?.steps?.map((step) => step.value)).toContain(0.02);
  });

  it.runIf(toolAvailable('promtool', 'prometheus'))('has queries that Prometheus parses (promtool check rules)', () => {
    const rules = panelExprs.map(({ expr }, index) => ({
      record: `dashboard:query_${index}`,
      expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$stream', '.*'),
    }));
    const dir = mkdtempSync(path.join(tmpdir(), 'paddock-dashboard-'));
    const file = path.join(dir, 'dashboard-queries.yml');
    writeFileSync(file, stringifyYaml({ groups: [{ name: 'dashboard', rules }] }));
    const result = runTool('promtool', ['check', 'rules', file]);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(result.status).toBe(0);
  });
});

describe('Grafana provisioning', () => {
  it('loads dashboards from the folder the compose file mounts', () => {
    const provider = parseYaml(readFileSync(repoPath('grafana', 'provisioning', 'dashboards', 'paddock.yml'), 'utf8')) as {
      providers: { type: string; options: { path: string } }[];
    };
    const compose = parseYaml(readFileSync(repoPath('docker-compose.yml'), 'utf8')) as {
      services: Record<string, { volumes?: string[] }>;
    };
    const mounts = compose.services.grafana?.volumes ?? [];
    const target = provider.providers[0]?.options.path;
    expect(mounts).toContain(`./grafana/dashboards:${target}:ro`);
    expect(mounts).toContain('./grafana/provisioning:/etc/grafana/provisioning:ro');
  });
});

