import { configDefaults, defineConfig } from 'vitest/config';

// The scale-out tests run three daemon processes at once: they get the machine to themselves
// after every other file, so their load never slows the timing-sensitive daemon tests.
const CLUSTER_TESTS = 'test/cluster/**/*.test.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, CLUSTER_TESTS], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'cluster', include: [CLUSTER_TESTS], sequence: { groupOrder: 1 } } },
    ],
  },
});
