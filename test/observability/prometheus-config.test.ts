import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { METRIC } from '../../src/metrics/index.ts';
import { populatedMetrics, sampleNames } from './populated-metrics.ts';
import { repoPath, runTool, toolAvailable } from './tools.ts';

const alerts = parseYaml(readFileSync(repoPath('deploy', 'prometheus', 'alerts.yml'), 'utf8')) as {
  groups: { rules: { alert: string; expr: string; labels: { severity: string }; annotations: Record<string, string> }[] }[];
};
const rules = alerts.groups.flatMap((group) => group.rules);

describe('alert rules', () => {
  it('name only series that paddock exports (or up)', async () => {
    const exposed = sampleNames(await populatedMetrics().registry.metrics());
    for (const rule of rules) {
      const names = [...rule.expr.matchAll(/\b(paddock_[a-zA-Z0-9_:]*)/g)].map((match) => match[1] ?? '');
      expect(names.length > 0 || rule.expr.includes('up{job="paddock"}'), rule.alert).toBe(true);
      for (const name of names) expect(exposed.has(name), `${rule.alert} uses ${name}`).toBe(true);
    }
  });

  it('carry a severity, a summary and a description', () => {
    expect(rules.length).toBeGreaterThanOrEqual(8);
    for (const rule of rules) {
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      expect(rule.annotations.description, rule.alert).toBeTruthy();
    }
    const watched = rules.map((rule) => rule.expr).join('\n');
    for (const name of [METRIC.deadLetters, METRIC.chunkOverheadRatio, METRIC.lag, METRIC.queueDepth, METRIC.chunks]) {
      expect(watched).toContain(name);
    }
  });
});

describe.runIf(toolAvailable('promtool', 'prometheus'))('promtool', () => {
  it('accepts the alert rules', () => {
    const result = runTool('promtool', ['check', 'rules', 'deploy/prometheus/alerts.yml']);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(result.status).toBe(0);
  });

  it('passes the alert unit tests', () => {
    const result = runTool('promtool', ['test', 'rules', 'deploy/prometheus/alerts.test.yml']);
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('accepts the Prometheus configuration', () => {
    const result = runTool('promtool', ['check', 'config', 'deploy/prometheus/prometheus.yml']);
    expect(result.output).toContain('is valid prometheus config file syntax');
    expect(result.status).toBe(0);
  });
});
