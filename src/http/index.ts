import { fastify, LogController } from 'fastify';
import type { Registry } from 'prom-client';
import { PaddockError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { Readiness } from './readiness.ts';

export * from './readiness.ts';

export interface HttpServerOptions {
  metricsRegistry: Registry;
  readiness: Readiness;
  /** PADDOCK_HTTP_PORT; 0 picks a free port (tests). */
  port: number;
  /** Default 0.0.0.0 so Prometheus and the kubelet can reach it. */
  host?: string;
  logger: Logger;
}

export interface HttpServer {
  /** Starts listening; resolves with the bound address. A port in use rejects with HTTP_LISTEN. */
  start(): Promise<{ host: string; port: number; url: string }>;
  /** Stops accepting connections and closes the open ones. Safe to call twice or before start. */
  stop(): Promise<void>;
}

/** `/metrics` (Prometheus text), `/healthz` (process alive) and `/readyz` (dependencies ready). */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const host = options.host ?? '0.0.0.0';
  const app = buildApp(options);
  let started = false;
  let stopped = false;

  return {
    async start() {
      let address: string;
      try {
        address = await app.listen({ port: options.port, host });
      } catch (error) {
        throw new PaddockError('HTTP_LISTEN', `cannot serve HTTP on ${host}:${options.port}: ${(error as Error).message}`, {
          cause: error,
          details: { host, port: options.port },
        });
      }
      started = true;
      const bound = app.server.address();
      const port = typeof bound === 'object' && bound !== null ? bound.port : options.port;
      options.logger.info({ url: address, port }, 'http server listening');
      return { host, port, url: address };
    },
    async stop() {
      if (!started || stopped) return;
      stopped = true;
      await app.close();
    },
  };
}

function buildApp({ metricsRegistry, readiness, logger }: HttpServerOptions) {
  // Probes and scrapes arrive every few seconds: keep them out of the request log.
  const app = fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }) });

  app.get('/metrics', async (_request, reply) => {
    const body = await metricsRegistry.metrics();
    return reply.type(metricsRegistry.contentType).send(body);
  });

  app.get('/healthz', async (_request, reply) => reply.send({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    try {
      const report = await readiness();
      return reply.code(report.ready ? 200 : 503).send(report);
    } catch (error) {
      return reply.code(503).send({ ready: false, checks: { readiness: (error as Error).message ?? String(error) } });
    }
  });

  return app;
}
