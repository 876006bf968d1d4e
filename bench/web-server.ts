/**
 * The registry API and web app over a PostgreSQL registry, in a process of its own (as the daemon
 * serves them), for web.bench.ts: `node --import tsx bench/web-server.ts DATABASE_URL TOKEN`.
 * Prints the port when it listens; stops on SIGTERM.
 */
import { createRegistryServer } from '../src/http/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { createPostgresDatabase } from '../src/registry/database.ts';
import { MemoryHotCache } from '../src/registry/memory-cache.ts';
import { SqlRegistryStore } from '../src/registry/sql-store.ts';

const [databaseUrl, token] = process.argv.slice(2);
const logger = silentLogger();
const store = new SqlRegistryStore(createPostgresDatabase(databaseUrl!), new MemoryHotCache({ ttlSeconds: 300, indexSize: 50 }), logger, { maxExemplars: 8 });
const server = createRegistryServer({ store, tokens: [{ scope: 'admin', token: token! }], port: 0, host: '127.0.0.1', logger });
const { port } = await server.start();
process.stdout.write(`${port}\n`);
process.once('SIGTERM', () => {
  void server.stop().then(() => store.close()).then(() => process.exit(0));
});
