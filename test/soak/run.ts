/** `npm run soak`: the long soak (bounded: at most 10 minutes), printing what was tried and what survived. */
import { runSoak } from './soak.ts';
import { soakServersAvailable } from './servers.ts';

const missing = soakServersAvailable();
if (missing !== null) {
  console.error(`soak: ${missing}`);
  process.exit(2);
}
const report = await runSoak({ streams: 5, chunksPerStream: 20, kills: 10, postgresOutageMs: 120_000, budgetMs: 9 * 60_000, log: (line) => console.log(line) });
console.log(report.table);
if (report.problems.length > 0) {
  console.log(`\nproblems:\n${report.problems.map((p) => `- ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('\nnothing lost, nothing dead-lettered, nothing processed twice, order kept');
