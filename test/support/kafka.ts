/**
 * A real Apache Kafka broker for tests, run through the script users run (`deploy/local/kafka.sh`): its own
 * data dir and free loopback ports, so a developer's broker on 9092 is untouched. `stop`/`start` keep the data
 * (a broker outage), `destroy` stops and deletes it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, '../../deploy/local/kafka.sh');

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface TestBroker {
  bootstrap: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Freezes the broker process (SIGSTOP): requests to it hang until `resume`. */
  pause(): void;
  resume(): void;
  destroy(): Promise<void>;
}

export async function startTestBroker(): Promise<TestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-kafka-test-'));
  const env = { ...process.env, KAFKA_DATA_DIR: dataDir, KAFKA_PORT: String(await freePort()), KAFKA_CONTROLLER_PORT: String(await freePort()) };
  const run = (command: string) =>
    new Promise<string>((done, fail) => {
      // The first start of a fresh clone fetches the broker's jars with Maven: allow minutes.
      execFile(SCRIPT, [command], { env, timeout: 600_000 }, (error, stdout, stderr) => {
        if (error) fail(new Error(`kafka.sh ${command} failed: ${stderr.slice(-2000)}`));
        else done(stdout.trimEnd().split('\n').at(-1) ?? '');
      });
    });
  const bootstrap = await run('start');
  // The broker this test started, by the PID file kafka.sh keeps in its data dir.
  const signal = (sig: NodeJS.Signals) => process.kill(Number(readFileSync(join(dataDir, 'broker.pid'), 'utf8').trim()), sig);
  return {
    bootstrap,
    start: async () => {
      await run('start');
    },
    stop: async () => {
      await run('stop');
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    destroy: async () => {
      await run('stop').catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
