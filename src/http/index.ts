/** HTTP: the daemon's server (probes, metrics, registry API, web app) and its registry-only variant. */
export * from './readiness.ts';
export { createHttpServer, type HttpServer, type HttpServerOptions } from './http-server.ts';
export { ApiAuth } from './api/auth.ts';
export type { ApiOptions } from './api/routes.ts';
export { createRegistryServer, type RegistryServerOptions } from './registry-server.ts';
export { WEB_ROOT } from './web.ts';

