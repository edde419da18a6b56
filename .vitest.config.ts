import { defineConfig } from 'vitest/config';

// Two projects (STYLE.md): unit tests beside the code, integration tests (`*.int.test.ts`) that start
// real services (chDB, the OTLP receivers, a Kafka broker) and so run one file at a time on 2 cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{ingest,query,agents,deploy,test,ui}/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', 'node_modules/**'],
        },
      },
      {
        test: {
          name: 'int',
          include: ['{ingest,query,agents,deploy,test,ui}/**/*.int.test.ts'],
          exclude: ['node_modules/**'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
