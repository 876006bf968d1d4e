import net from 'node:net';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/paddock_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

const inCi = process.env.CI === 'true';

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const parsed = new URL(url);
  const port = parsed.port === '' ? defaultPort : Number(parsed.port);
  return new Promise((resolve) => {
    const socket = net.connect({ host: parsed.hostname, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether an integration suite may run. Outside CI an unreachable server skips the suite;
 * under CI=true it is a failure, so CI never passes on skipped integration tests.
 */
export async function serviceAvailable(name: 'postgres' | 'redis' | 'nats'): Promise<boolean> {
  const [url, port] =
    name === 'postgres' ? [TEST_DATABASE_URL, 5432] : name === 'redis' ? [TEST_REDIS_URL, 6379] : [TEST_NATS_URL, 4222];
  const ok = await reachable(url, port);
  if (!ok && inCi) throw new Error(`${name} at ${url} is unreachable, and integration tests may not skip under CI=true`);
  return ok;
}

/**
 * A new, empty PostgreSQL database for one test file, so suites running in parallel never
 * see each other's rows. Returns its URL and a function that drops it.
 */
export async function createScratchDatabase(prefix = 'paddock_t'): Promise<{ url: string; drop: () => Promise<void> }> {
  const pg = (await import('pg')).default;
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}
