import { Registry } from 'prom-client';
import type { ApiToken } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import type { SqlRegistryStore } from '../registry/index.ts';
import { EventHub, type EventFeed, type EventPublisher } from '../sources/index.ts';
import { ApiAuth } from './api/auth.ts';
import type { ApiHooks } from './api/routes.ts';
import { createHttpServer, type HttpServer } from './http-server.ts';

export interface RegistryServerOptions {
  store: SqlRegistryStore;
  tokens: readonly ApiToken[];
  port: number;
  host: string;
  logger: Logger;
  /** Live events for the page (default: none arrive). */
  feed?: EventFeed;
  /** Where changes are announced (default: nowhere). */
  events?: EventPublisher | null;
  hooks?: ApiHooks;
}

/**
 * The registry API and web app over an open registry, without the daemon around them
 * (`demo --serve`, benchmarks, tests): the same routes, with a readiness that asks the database.
 */
export function createRegistryServer(options: RegistryServerOptions): HttpServer {
  const { store, logger } = options;
  const events = options.events ?? null;
  return createHttpServer({
    metricsRegistry: new Registry(),
    readiness: async () => {
      await store.registryVersion('__readyz__');
      return { ready: true, checks: { database: true } };
    },
    port: options.port,
    host: options.host,
    logger,
    api: { store: () => store, auth: new ApiAuth(options.tokens), feed: options.feed ?? new EventHub(logger), events: () => events, logger, hooks: options.hooks },
  });
}
