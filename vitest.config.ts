import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'plugins/**/*.test.ts', 'test/**/*.test.ts', 'ui-extensions/**/*.test.ts', 'ui-extensions/**/*.test.tsx'],
    exclude: ['node_modules/**', '.ledgerline/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
