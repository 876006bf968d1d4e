/**
 * The short soak (the CI version of `npm run soak`, about 3 minutes): kill -9 and SIGTERM at
 * random moments, PostgreSQL refusing connections, Redis killed, NATS restarted — nothing lost,
 * nothing dead-lettered, nothing persisted twice, per-stream order kept.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from './soak.ts';
import { soakServersAvailable } from './servers.ts';

const missing = soakServersAvailable();
if (missing !== null && process.env.CI === 'true') throw new Error(`the soak may not skip under CI=true: ${missing}`);

describe.skipIf(missing !== null)('soak (short)', () => {
  it(
    'survives kills and outages without losing, dead-lettering or repeating a chunk',
    async () => {
      const report = await runSoak({ streams: 3, chunksPerStream: 4, kills: 4, postgresOutageMs: 20_000, budgetMs: 150_000 });
      console.log(report.table);
      expect(report.problems).toEqual([]);
    },
    240_000,
  );
});
