import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { isPaddockError } from '../../src/errors/index.ts';
import { createHttpServer, readinessFromChecks, type HttpServer, type Readiness } from '../../src/http/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { populatedMetrics } from './populated-metrics.ts';
import { runTool, toolAvailable } from './tools.ts';

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function serve(readiness: Readiness, registry: Registry = new Registry()) {
  const server = createHttpServer({ metricsRegistry: registry, readiness, port: 0, host: '127.0.0.1', logger: silentLogger() });
  servers.push(server);
  return server.start();
}

const alwaysReady: Readiness = async () => ({ ready: true, checks: { nats: true } });

describe('HTTP server', () => {
  it('serves /metrics as Prometheus text with the registry content', async () => {
    const metrics = populatedMetrics();
    const { url } = await serve(alwaysReady, metrics.registry);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = await response.text();
    expect(body).toContain('paddock_chunks_total{stream="paddock-north",outcome="processed"} 1');
    expect(body).toContain('# TYPE paddock_chunk_duration_seconds histogram');
  });

  it('answers /healthz while alive', async () => {
    const { url } = await serve(async () => ({ ready: false, checks: {} }));
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz 200 when every check passes and 503 with the checks otherwise', async () => {
    let natsUp = true;
    const readiness = readinessFromChecks({
      nats: () => natsUp || 'disconnected',
      database: async () => true,
      models: () => true,
    });
    const { url } = await serve(readiness);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: { nats: true, database: true, models: true } });
    natsUp = false;
    const unready = await fetch(`${url}/readyz`);
    expect(unready.status).toBe(503);
    expect(await unready.json()).toEqual({ ready: false, checks: { nats: 'disconnected', database: true, models: true } });
  });

  it('answers 503 when the readiness function itself fails', async () => {
    const { url } = await serve(() => Promise.reject(new Error('store closed')));
    const response = await fetch(`${url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ ready: false, checks: { readiness: 'store closed' } });
  });

  it('refuses a port in use with a typed error, and stops cleanly', async () => {
    const { port } = await serve(alwaysReady);
    const second = createHttpServer({ metricsRegistry: new Registry(), readiness: alwaysReady, port, host: '127.0.0.1', logger: silentLogger() });
    const failure = await second.start().catch((error: unknown) => error);
    expect(isPaddockError(failure) && failure.code).toBe('HTTP_LISTEN');
    await second.stop();
    const first = servers.pop();
    await first?.stop();
    await first?.stop();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});

describe('readinessFromChecks', () => {
  it('turns a hung check into a reason and a thrown one into its message', async () => {
    const readiness = readinessFromChecks(
      { hung: () => new Promise<boolean>(() => undefined), thrown: () => { throw new Error('no database'); }, ok: () => true },
      50,
    );
    expect(await readiness()).toEqual({ ready: false, checks: { hung: 'no answer within 50 ms', thrown: 'no database', ok: true } });
  });

  it('is not ready on false', async () => {
    expect((await readinessFromChecks({ models: () => false })()).ready).toBe(false);
  });
});

describe.runIf(toolAvailable('promtool', 'prometheus'))('promtool check metrics', () => {
  it('passes with no warnings on a real scrape with every metric populated', async () => {
    const { url } = await serve(alwaysReady, populatedMetrics().registry);
    const scrape = await (await fetch(`${url}/metrics`)).text();
    const result = runTool('promtool', ['check', 'metrics'], { input: scrape });
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });
});
