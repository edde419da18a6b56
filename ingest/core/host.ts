/**
 * Runs roles (role.ts) in one process and gives back one handle that stops them.
 *
 * 1. The HTTP port listens first, with a boot handler: /healthz answers 200 (the process lives), /readyz and
 *    every other path 503 + Retry-After, /metrics the registry. Migrations against a remote cluster or a first
 *    Kafka connection can take a while, and a liveness probe must not kill the process meanwhile.
 * 2. Roles start in the order given (a role that provides a service starts before the roles that read it).
 * 3. The HTTP app (http.ts) is built with every route the roles registered and takes over the port.
 * 4. /readyz is 200 while every role says it is ready.
 * Close (SIGTERM, or a failed start) goes in reverse: not ready, roles closed last-started first (the gateway
 * stops accepting before the writer it feeds flushes), the HTTP port, then the store.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Store } from '#storage/client.ts';
import { buildHttpApp, type RoutePlugin } from './http.ts';
import type { Logger } from './log.ts';
import { type PlatformMetrics, createMetrics } from './metrics.ts';
import type { ProcessConfig, Role, RoleContext, RunningRole, ServiceKey, Services } from './role.ts';

export interface ProcessOptions {
  /** The command (`start`, `gateway`, …). */
  name: string;
  roles: readonly Role[];
  /** The process config: every role's section plus the options every process has. */
  config: Readonly<Record<string, unknown>> & ProcessConfig;
  log: Logger;
  /** Opens and migrates the store, for roles that ask for it (once per process). */
  openStore?: (log: Logger) => Promise<Store>;
  /** What the process's /openapi.json says it serves. */
  description?: string;
}

export interface RunningProcess {
  /** `http` and every port the roles reported, by name. */
  ports: Readonly<Record<string, number>> & { http: number };
  metrics: PlatformMetrics;
  services: Services;
  /** The store, when a role opened it. */
  store: Store | undefined;
  /** Undefined while ready, else why not. */
  notReady(): string | undefined;
  close(): Promise<void>;
}

class ServiceMap implements Services {
  readonly #values = new Map<string, unknown>();
  provide<T>(key: ServiceKey<T>, value: T): void {
    if (this.#values.has(key.name)) throw new Error(`service ${key.name} is provided twice`);
    this.#values.set(key.name, value);
  }
  get<T>(key: ServiceKey<T>): T | undefined {
    return this.#values.get(key.name) as T | undefined;
  }
  shared<T>(key: ServiceKey<T>, create: () => T): T {
    if (!this.#values.has(key.name)) this.#values.set(key.name, create());
    return this.#values.get(key.name) as T;
  }
}

const BOOT_BODY = JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'the process is starting' } });

async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}

async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Requests in flight get a few seconds; then their connections are cut so shutdown is bounded.
  const timer = setTimeout(() => server.closeAllConnections(), 5000);
  await closed;
  clearTimeout(timer);
}

export async function runProcess(opts: ProcessOptions): Promise<RunningProcess> {
  const { config, log } = opts;
  const metrics = createMetrics();
  const services = new ServiceMap();
  const plugins: RoutePlugin[] = [];
  const started: { role: Role; running: RunningRole }[] = [];
  let phase: 'starting' | 'running' | 'closing' = 'starting';

  const notReady = (): string | undefined => {
    if (phase !== 'running') return `the process is ${phase}`;
    for (const { role, running } of started) {
      const why = running.notReady?.();
      if (why !== undefined) return `${role.name}: ${why}`;
    }
    return undefined;
  };

  const boot = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    } else if (path === '/readyz') {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'not ready', reason: notReady() }));
    } else {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(BOOT_BODY);
    }
  };
  const server = createServer(boot);
  const http = await listen(server, config.host, config.httpPort);

  let storePromise: Promise<Store> | undefined;
  let store: Store | undefined;
  const openStore = (): Promise<Store> => {
    if (opts.openStore === undefined) throw new Error(`the ${opts.name} process has no storage configured`);
    storePromise ??= opts.openStore(log.child({ component: 'storage' })).then((s) => (store = s));
    return storePromise;
  };

  let app: FastifyInstance | undefined;
  const close = async () => {
    phase = 'closing';
    for (const { role, running } of started.reverse()) {
      await running.close().catch((err: unknown) => log.error({ err, role: role.name }, 'error while closing a role'));
    }
    started.length = 0;
    await app?.close().catch((err: unknown) => log.error({ err }, 'error while closing the HTTP app'));
    await closeServer(server);
    if (storePromise) await storePromise.then((s) => s.close()).catch((err: unknown) => log.error({ err }, 'error while closing the store'));
  };

  const ports: Record<string, number> = { http };
  try {
    for (const role of opts.roles) {
      const ctx: RoleContext<Readonly<Record<string, unknown>>> = {
        config,
        processName: opts.name,
        log: log.child({ component: role.name }),
        metrics,
        services,
        store: openStore,
        routes: (plugin, pluginOpts) => plugins.push({ plugin: plugin, opts: pluginOpts }),
      };
      const running = await role.start(ctx);
      started.push({ role, running });
      Object.assign(ports, running.ports);
    }

    let fastifyHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
    app = await buildHttpApp({
      log: log.child({ component: 'http' }),
      metrics,
      authTokens: config.authToken,
      notReady,
      plugins,
      ...(opts.description ? { description: opts.description } : {}),
      serverFactory: (handler) => {
        fastifyHandler = handler;
        return server;
      },
    });
    await app.ready();
    server.off('request', boot);
    server.on('request', fastifyHandler!);
    phase = 'running';
  } catch (e) {
    await close();
    throw e;
  }

  return {
    ports: ports as RunningProcess['ports'],
    metrics,
    services,
    get store() {
      return store;
    },
    notReady,
    close,
  };
}
