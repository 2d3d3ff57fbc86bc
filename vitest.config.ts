import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: run files in parallel but not so many that timing-sensitive suites starve.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'node', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: ['test/ui/**'], sequence: { groupOrder: 0 } } },
      // The Chromium suites are CPU-heavy: they run after the others, so timing-sensitive suites never share the cores with a browser.
      { extends: true, test: { name: 'chromium', include: ['test/ui/**/*.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
