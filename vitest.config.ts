import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'plugins/**/*.test.ts', 'test/**/*.test.ts', 'ui-extensions/**/*.test.ts', 'ui-extensions/**/*.test.tsx'],
    exclude: ['node_modules/**', '.ledgerline/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker per core but one (2 cores: a single worker). Most test files
    // wait on databases, child processes and Chromium rather than compute, so two overlap well.
    maxWorkers: 2,
  },
});
