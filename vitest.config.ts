import { defineConfig } from 'vitest/config';

// The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: '.cache/vitest-report.json' }]],
    testTimeout: 30_000,
  },
});
