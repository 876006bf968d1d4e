import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { repoPath } from './tools.ts';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** kubernetes-models validates against the Kubernetes 1.27 OpenAPI schemas bundled in the package. */
const MODELS: Record<string, { validate(data: Manifest): void }> = {
  'apps/v1 Deployment': { validate: (data) => new Deployment(data as never).validate() },
  'policy/v1 PodDisruptionBudget': { validate: (data) => new PodDisruptionBudget(data as never).validate() },
  'v1 ConfigMap': { validate: (data) => new ConfigMap(data as never).validate() },
  'v1 PersistentVolumeClaim': { validate: (data) => new PersistentVolumeClaim(data as never).validate() },
  'v1 Secret': { validate: (data) => new Secret(data as never).validate() },
  'v1 Service': { validate: (data) => new Service(data as never).validate() },
};

const K8S = repoPath('deploy', 'k8s');

function readManifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((document) => {
    expect(document.errors, file).toEqual([]);
    return document.toJS() as Manifest;
  });
}

const kustomization = readManifests(path.join(K8S, 'kustomization.yaml'))[0] as unknown as { resources: string[] };
const base = kustomization.resources.flatMap((resource) => readManifests(path.join(K8S, resource)));
const byKind = (kind: string) => base.find((manifest) => manifest.kind === kind) as Manifest & Record<string, never>;

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface DeploymentShape {
  spec: {
    replicas?: number;
    strategy?: { type: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: { terminationGracePeriodSeconds: number; containers: Container[]; nodeSelector?: Record<string, string> };
    };
  };
}

/** Strategic merge as kubectl does it for what our patch touches: maps merge, lists of named items merge by name. */
function strategicMerge(target: unknown, patch: unknown): unknown {
  if (Array.isArray(target) && Array.isArray(patch)) {
    const named = (item: unknown) => typeof item === 'object' && item !== null && 'name' in item;
    if (!patch.every(named) || !target.every(named)) return patch;
    const merged: unknown[] = [...target];
    for (const item of patch as { name: string }[]) {
      const index = merged.findIndex((existing) => (existing as { name: string }).name === item.name);
      if (index === -1) merged.push(item);
      else merged[index] = strategicMerge(merged[index], item);
    }
    return merged;
  }
  if (typeof target === 'object' && target !== null && typeof patch === 'object' && patch !== null && !Array.isArray(patch)) {
    const result: Record<string, unknown> = { ...(target as Record<string, unknown>) };
    for (const [key, value] of Object.entries(patch)) result[key] = key in result ? strategicMerge(result[key], value) : value;
    return result;
  }
  return patch;
}

describe('Kubernetes manifests', () => {
  it('lists only files that exist, and each validates against the Kubernetes schema', () => {
    for (const resource of kustomization.resources) expect(existsSync(path.join(K8S, resource)), resource).toBe(true);
    for (const manifest of [...base, ...readManifests(path.join(K8S, 'secret.example.yaml'))]) {
      const model = MODELS[`${manifest.apiVersion} ${manifest.kind}`];
      expect(model, `${manifest.apiVersion} ${manifest.kind}`).toBeDefined();
      expect(() => model?.validate(manifest), `${manifest.kind}/${manifest.metadata.name}`).not.toThrow();
    }
    expect(base.map((manifest) => manifest.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'Service']);
  });

  it('the schema check catches a broken manifest', () => {
    const broken = structuredClone(byKind('Deployment')) as unknown as DeploymentShape;
    (broken.spec.template.spec.containers[0]?.ports?.[0] as { containerPort: unknown }).containerPort = 'http';
    expect(() => MODELS['apps/v1 Deployment']?.validate(broken as unknown as Manifest)).toThrow(/containerPort/);
  });

  it('probes /healthz and /readyz and drains longer than the daemon deadline', () => {
    const deployment = byKind('Deployment') as unknown as DeploymentShape;
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(container?.args).toEqual(['node', 'bin/paddock.mjs', 'run']);
    expect(container?.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container?.readinessProbe?.httpGet?.path).toBe('/readyz');
    const config = byKind('ConfigMap') as unknown as { data: Record<string, string> };
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(config.data.PADDOCK_SHUTDOWN_DEADLINE_S));
    expect(container?.volumeMounts?.find((mount) => mount.name === 'models')?.readOnly).toBe(true);
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
  });

  it('runs several replicas with a rolling update, each with its own replica id, failing over within the lease TTL', () => {
    const deployment = byKind('Deployment') as unknown as DeploymentShape;
    const config = byKind('ConfigMap') as unknown as { data: Record<string, string> };
    expect(deployment.spec.replicas).toBeGreaterThan(1);
    expect(deployment.spec.strategy?.type).toBe('RollingUpdate');
    expect(deployment.spec.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    const container = deployment.spec.template.spec.containers[0];
    expect(container?.env?.find((entry) => entry.name === 'PADDOCK_REPLICA_ID')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    const parsed = loadConfig({ ...config.data, DATABASE_URL: 'postgres://paddock@postgres:5432/paddock', PADDOCK_REPLICA_ID: 'paddock-0' });
    expect(parsed.ownership.leaseTtlMs).toBeLessThanOrEqual(15_000);
    expect(parsed.natsTopology.ackWaitMs).toBeLessThanOrEqual(parsed.ownership.leaseTtlMs);
  });

  it('has a ConfigMap that paddock accepts, and takes secrets from a Secret', () => {
    const config = byKind('ConfigMap') as unknown as { metadata: { name: string }; data: Record<string, string> };
    expect(() => loadConfig({ ...config.data, DATABASE_URL: 'postgres://paddock@postgres:5432/paddock' })).not.toThrow();
    const container = (byKind('Deployment') as unknown as DeploymentShape).spec.template.spec.containers[0];
    expect(container?.envFrom?.[0]?.configMapRef?.name).toBe(config.metadata.name);
    const secretKeys = (container?.env ?? []).filter((entry) => entry.valueFrom?.secretKeyRef !== undefined).map((entry) => entry.name);
    expect(secretKeys).toContain('DATABASE_URL');
    expect(config.data).not.toHaveProperty('DATABASE_URL');
  });

  it('has a Service on the metrics port with scrape annotations, and a PDB over the pods', () => {
    const service = byKind('Service') as unknown as Manifest & { spec: { selector: Record<string, string>; ports: { port: number }[] } };
    const deployment = byKind('Deployment') as unknown as DeploymentShape;
    const containerPort = deployment.spec.template.spec.containers[0]?.ports?.[0]?.containerPort;
    expect(service.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(containerPort), 'prometheus.io/path': '/metrics' });
    expect(service.spec.ports[0]?.port).toBe(containerPort);
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    const pdb = byKind('PodDisruptionBudget') as unknown as { spec: { selector: { matchLabels: Record<string, string> } } };
    expect(deployment.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
  });

  it('has a GPU variant that still validates and asks for one nvidia.com/gpu with CUDA first', () => {
    const overlay = readManifests(path.join(K8S, 'gpu', 'kustomization.yaml'))[0] as unknown as { resources: string[]; patches: { path: string }[] };
    expect(overlay.resources).toEqual(['..']);
    const patch = readManifests(path.join(K8S, 'gpu', overlay.patches[0]?.path ?? ''))[0] as Manifest;
    expect(patch.kind).toBe('Deployment');
    const merged = strategicMerge(byKind('Deployment'), patch) as Manifest;
    expect(() => MODELS['apps/v1 Deployment']?.validate(merged)).not.toThrow();
    const container = (merged as unknown as DeploymentShape).spec.template.spec.containers[0];
    expect(container?.resources?.limits?.['nvidia.com/gpu']).toBe('1');
    expect(container?.env?.find((entry) => entry.name === 'PADDOCK_EP')?.value).toBe('cuda,cpu');
    expect(container?.readinessProbe?.httpGet?.path).toBe('/readyz');
  });
});
