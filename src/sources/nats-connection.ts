/**
 * One NATS connection from the validated configuration: credentials (user/password, token or a
 * creds file), TLS, reconnect forever, and a logged status stream. Credentials never reach a log.
 */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import type { PaddockConfig } from '../config/index.ts';
import { ConfigError, PaddockError, errorMessage } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';

export type NatsSettings = PaddockConfig['nats'];

export interface NatsLink {
  readonly nc: NatsConnection;
  /** The server list as logged: no user, password or token. */
  readonly safeUrl: string;
  /** Connected now (false while reconnecting and after close); for `/readyz`. */
  isConnected(): boolean;
  /** Drains subscriptions and pending publishes, then closes. Safe to call twice. */
  close(): Promise<void>;
}

export interface ConnectNatsOptions {
  logger: Logger;
  /** Client name shown in the server's monitoring. */
  name?: string;
  /** Time allowed for the first connection (ms). */
  timeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** `nats://user:secret@host:4222,host2` → `nats://host:4222,nats://host2`; never throws. */
export function redactNatsUrl(servers: string): string {
  return servers
    .split(',')
    .map((server) => server.trim())
    .filter((server) => server.length > 0)
    .map((server) => {
      const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `nats://${server}`;
      try {
        const url = new URL(withScheme);
        return `${url.protocol}//${url.host}`;
      } catch {
        return server.replace(/^.*@/, '');
      }
    })
    .join(',');
}

/** The nats.js connection options for the settings: auth, TLS and reconnect policy. */
export function natsConnectionOptions(settings: NatsSettings, options: { name?: string; timeoutMs?: number } = {}): ConnectionOptions {
  const connection: ConnectionOptions = {
    servers: settings.url.split(',').map((server) => server.trim()).filter((server) => server.length > 0),
    name: options.name ?? 'paddock',
    timeout: options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 2000,
    waitOnFirstConnect: false,
  };
  if (settings.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = new Uint8Array(readFileSync(settings.credsFile));
    } catch (error) {
      throw new ConfigError(`invalid NATS_CREDS_FILE: cannot read ${settings.credsFile} (${errorMessage(error)})`, { variable: 'NATS_CREDS_FILE' });
    }
    connection.authenticator = credsAuthenticator(creds);
  } else if (settings.token !== undefined) {
    connection.token = settings.token;
  } else if (settings.user !== undefined) {
    connection.user = settings.user;
    if (settings.password !== undefined) connection.pass = settings.password;
  }
  const { ca, cert, key } = settings.tls;
  if (ca !== undefined || cert !== undefined || key !== undefined) {
    if ((cert === undefined) !== (key === undefined)) {
      throw new ConfigError('invalid NATS_TLS_CERT / NATS_TLS_KEY: a client certificate needs both', { variable: cert === undefined ? 'NATS_TLS_CERT' : 'NATS_TLS_KEY' });
    }
    connection.tls = {
      ...(ca === undefined ? {} : { caFile: ca }),
      ...(cert === undefined ? {} : { certFile: cert }),
      ...(key === undefined ? {} : { keyFile: key }),
    };
  }
  return connection;
}

/**
 * Connects once (throws PaddockError NATS_UNAVAILABLE when the first connection fails), then
 * reconnects forever; disconnects and reconnects are logged.
 */
export async function connectNats(settings: NatsSettings, options: ConnectNatsOptions): Promise<NatsLink> {
  const safeUrl = redactNatsUrl(settings.url);
  const connectionOptions = natsConnectionOptions(settings, options);
  let nc: NatsConnection;
  try {
    nc = await connect(connectionOptions);
  } catch (error) {
    throw new PaddockError('NATS_UNAVAILABLE', `cannot connect to NATS at ${safeUrl}: ${redactedMessage(error, settings)}`, { details: { url: safeUrl } });
  }
  const logger = options.logger.child({ component: 'nats' });
  let connected = true;
  logger.info({ url: safeUrl, server: nc.info?.server_name, version: nc.info?.version }, 'connected to NATS');
  void (async () => {
    for await (const status of nc.status()) {
      switch (status.type) {
        case 'disconnect':
          connected = false;
          logger.warn({ server: redactNatsUrl(status.server) }, 'disconnected from NATS');
          break;
        case 'reconnect':
          connected = true;
          logger.info({ server: redactNatsUrl(status.server) }, 'reconnected to NATS');
          break;
        case 'error':
          logger.error({ err: redactedMessage(status.error, settings) }, 'NATS connection error');
          break;
        case 'staleConnection':
        case 'slowConsumer':
        case 'ldm':
          logger.warn({ status: status.type }, 'NATS connection status');
          break;
        case 'close':
          connected = false;
          break;
        default:
          break;
      }
    }
  })().catch((error: unknown) => logger.error({ err: errorMessage(error) }, 'NATS status stream failed'));
  void nc.closed().then((error) => {
    connected = false;
    if (error instanceof Error) logger.error({ err: redactedMessage(error, settings) }, 'NATS connection closed with an error');
  });
  let closing: Promise<void> | undefined;
  return {
    nc,
    safeUrl,
    isConnected: () => connected && !nc.isClosed() && !nc.isDraining(),
    close: () => {
      if (closing !== undefined) return closing;
      if (nc.isClosed()) closing = Promise.resolve();
      else if (nc.isDraining()) closing = nc.closed().then(() => undefined);
      else {
        closing = nc.drain().catch((error: unknown) => {
          logger.warn({ err: errorMessage(error) }, 'NATS drain failed; closing');
          return nc.close();
        });
      }
      return closing;
    },
  };
}

/** An error message with any configured secret blanked out, in case a library echoes one. */
function redactedMessage(error: unknown, settings: NatsSettings): string {
  let message = errorMessage(error);
  for (const secret of [settings.password, settings.token]) {
    if (secret !== undefined && secret.length > 0) message = message.split(secret).join('[redacted]');
  }
  return message.replace(/\/\/[^/@\s]*@/g, '//');
}
