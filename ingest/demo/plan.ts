/**
 * One user request through the shop, planned before anything is sent: a tree of steps (spans to be), each with
 * its service, kind, timing, semantic-convention attributes, outcome and log lines. Pure: a random source and
 * the conditions of the moment (scenario.ts) decide everything, so tests can check what a request does under
 * an incident without any SDK. traffic.ts turns a plan into spans, logs and metrics through the SDK.
 *
 * Requests (share of traffic):
 *
 *   GET /             35 %  frontend → catalog GET /products (PostgreSQL) + cart GET /cart (Redis)
 *   GET /product/:id  25 %  frontend → catalog GET /products/:id (Redis cache, PostgreSQL on a miss; 404 sometimes)
 *   GET /search       15 %  frontend → catalog GET /products/search (PostgreSQL; the slow path)
 *   POST /cart        15 %  frontend → cart POST /cart/items (Redis)
 *   POST /checkout    10 %  frontend → checkout → cart GET /cart, payment POST /charges → the provider (external),
 *                           INSERT orders, send to Kafka `orders` ⇢ fulfillment (consumer) → UPDATE orders,
 *                           notification POST /notify → Redis
 *
 * Timing: a handler's own work, then its calls one after another, then a little more work; a call's client span
 * wraps the callee's server span plus the network both ways. The Kafka consumer starts after the producer's
 * send plus the time the message waits in the topic, so it may end after the request that produced it: a trace
 * is as long as its furthest step (`extentMs`).
 *
 * Attributes follow the current semantic conventions (http.request.method, db.query.text, messaging.operation.type)
 * and carry the older names where widely deployed tools still read them (db.statement, db.system,
 * messaging.operation).
 */
import { type Behaviour, type Conditions, behaviour } from './scenario.ts';
import { type Random, between, chance, latencyMs, pick, token, weighted } from './random.ts';
import type { ServiceName } from './topology.ts';

export type StepKind = 'server' | 'client' | 'producer' | 'consumer' | 'internal';
export type Severity = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export type AttrValue = string | number | boolean;

export interface PlannedLog {
  /** After the step's start. */
  atMs: number;
  severity: Severity;
  body: string;
  attributes: Record<string, AttrValue>;
}

export interface Step {
  service: ServiceName;
  name: string;
  kind: StepKind;
  /** After the parent step's start (0 for the root). */
  offsetMs: number;
  durationMs: number;
  attributes: Record<string, AttrValue>;
  /** Set when the span's status is Error: what failed. */
  error?: { type: string; message: string; stack?: string };
  logs: PlannedLog[];
  children: Step[];
}

export type Route = 'home' | 'product' | 'search' | 'add-to-cart' | 'checkout';

export const ROUTES: readonly (readonly [Route, number])[] = [
  ['home', 35],
  ['product', 25],
  ['search', 15],
  ['add-to-cart', 15],
  ['checkout', 10],
];

export const PROVIDER_HOST = 'api.payment-provider.example';
export const ORDERS_TOPIC = 'orders';

const HOSTS: Readonly<Record<string, string>> = {
  catalog: 'catalog.shop.svc.cluster.local',
  cart: 'cart.shop.svc.cluster.local',
  checkout: 'checkout.shop.svc.cluster.local',
  payment: 'payment.payments.svc.cluster.local',
  notification: 'notification.shop.svc.cluster.local',
};
const POSTGRES = { host: 'postgres.shop.svc.cluster.local', port: 5432, db: 'shop' };
const REDIS = { host: 'redis.shop.svc.cluster.local', port: 6379 };
const KAFKA = { host: 'kafka.shop.svc.cluster.local', port: 9092, partitions: 6 };

const STATUS_TEXT: Readonly<Record<number, string>> = { 402: 'Payment Required', 404: 'Not Found', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** Work inside a handler: steps laid out one after another from `atMs`. */
class Timeline {
  constructor(
    private readonly r: Random,
    public atMs: number,
  ) {}
  /** Own work (parsing, rendering) of about `ms`. */
  work(ms: number): void {
    this.atMs += latencyMs(this.r, ms, 1.4);
  }
  call(parent: Step, child: Step): Step {
    child.offsetMs = round(this.atMs);
    parent.children.push(child);
    this.atMs += child.durationMs + between(this.r, 0.05, 0.3);
    return child;
  }
}

function step(service: ServiceName, name: string, kind: StepKind, attributes: Record<string, AttrValue>): Step {
  return { service, name, kind, offsetMs: 0, durationMs: 0, attributes, logs: [], children: [] };
}

function log(s: Step, atMs: number, severity: Severity, body: string, attributes: Record<string, AttrValue> = {}): void {
  s.logs.push({ atMs: round(Math.max(0, Math.min(atMs, s.durationMs))), severity, body, attributes });
}

/** The step's span ends in error; the log line says so with the exception attributes log backends read. */
function fail(s: Step, type: string, message: string, stack?: string): void {
  s.error = stack === undefined ? { type, message } : { type, message, stack };
}

const exceptionAttrs = (e: NonNullable<Step['error']>) => ({
  'exception.type': e.type,
  'exception.message': e.message,
  ...(e.stack !== undefined ? { 'exception.stacktrace': e.stack } : {}),
});

interface Handled {
  status: number;
  /** Why a 5xx happened, from the first failing call. */
  cause?: NonNullable<Step['error']>;
}

/**
 * A server span of `service` for `method route`: `body` lays out the handler's calls on the timeline and says
 * the HTTP status; the span's duration, status and access log follow from it.
 */
function handle(r: Random, service: ServiceName, method: string, route: string, path: string, body: (s: Step, t: Timeline) => Handled): Step {
  const s = step(service, `${method} ${route}`, 'server', {
    'http.request.method': method,
    'http.route': route,
    'url.path': path,
    'url.scheme': 'http',
    'server.address': HOSTS[service] ?? 'shop.example.com',
    'server.port': service === 'frontend' ? 443 : 8080,
    'network.protocol.version': '1.1',
  });
  const t = new Timeline(r, 0);
  t.work(0.4);
  const { status, cause } = body(s, t);
  t.work(0.3);
  s.durationMs = round(t.atMs);
  s.attributes['http.response.status_code'] = status;
  // Semantic conventions: a server span is an error on 5xx only (a 4xx is the caller's mistake).
  if (status >= 500) {
    s.attributes['error.type'] = String(status);
    fail(s, cause?.type ?? 'HttpError', cause?.message ?? `${status} ${STATUS_TEXT[status] ?? ''}`.trim(), cause?.stack);
    log(s, s.durationMs, 'ERROR', `${method} ${path} failed with ${status}: ${s.error!.message}`, { ...exceptionAttrs(s.error!), 'http.response.status_code': status });
  } else {
    log(s, s.durationMs, status >= 400 ? 'WARN' : 'INFO', `${method} ${path} ${status} in ${Math.round(s.durationMs)} ms`, {
      'http.request.method': method,
      'http.route': route,
      'http.response.status_code': status,
    });
  }
  return s;
}

/** A client span of `from` calling `server` (a planned handler of another service) over HTTP. */
function httpCall(r: Random, from: ServiceName, server: Step): Step {
  const method = String(server.attributes['http.request.method']);
  const route = String(server.attributes['http.route']);
  const host = String(server.attributes['server.address']);
  const status = Number(server.attributes['http.response.status_code']);
  const c = step(from, `${method} ${route}`, 'client', {
    'http.request.method': method,
    'url.full': `http://${host}:8080${String(server.attributes['url.path'])}`,
    'url.template': route,
    'server.address': host,
    'server.port': 8080,
    'network.protocol.version': '1.1',
    'http.response.status_code': status,
  });
  const out = between(r, 0.2, 1.2);
  server.offsetMs = round(out);
  c.children.push(server);
  c.durationMs = round(out + server.durationMs + between(r, 0.2, 1.2));
  // A client span is an error on any 4xx or 5xx.
  if (status >= 400) {
    c.attributes['error.type'] = String(status);
    fail(c, 'HttpError', `${status} ${STATUS_TEXT[status] ?? ''}`.trim());
  }
  return c;
}

const callResult = (c: Step): Handled =>
  ({ status: Number(c.attributes['http.response.status_code']), ...(c.children[0]?.error ? { cause: c.children[0].error } : c.error ? { cause: c.error } : {}) });

interface DbCall {
  system: 'postgresql' | 'redis';
  operation: string;
  collection?: string;
  statement: string;
  ms: number;
  error?: { type: string; message: string };
}

/** A database client span (PostgreSQL or Redis). */
function db(service: ServiceName, q: DbCall): Step {
  const pg = q.system === 'postgresql';
  const s = step(service, q.collection ? `${q.operation} ${q.collection}` : q.operation, 'client', {
    'db.system': q.system,
    'db.system.name': q.system,
    'db.operation.name': q.operation,
    'db.query.text': q.statement,
    'db.statement': q.statement,
    'db.namespace': pg ? POSTGRES.db : '0',
    'server.address': pg ? POSTGRES.host : REDIS.host,
    'server.port': pg ? POSTGRES.port : REDIS.port,
    ...(q.collection ? { 'db.collection.name': q.collection } : {}),
  });
  s.durationMs = round(q.ms);
  if (q.error) {
    s.attributes['error.type'] = q.error.type;
    fail(s, q.error.type, q.error.message);
  }
  return s;
}

function internal(service: ServiceName, name: string, ms: number, attributes: Record<string, AttrValue> = {}): Step {
  const s = step(service, name, 'internal', attributes);
  s.durationMs = round(ms);
  return s;
}

// ---------------------------------------------------------------------------------------------------- services

function catalogList(r: Random, b: Behaviour): Step {
  return handle(r, 'catalog', 'GET', '/products', '/products', (s, t) => {
    t.work(b.catalogPoolWaitMs);
    t.call(s, db('catalog', {
      system: 'postgresql',
      operation: 'SELECT',
      collection: 'products',
      statement: 'SELECT id, name, price_cents, image_url FROM products WHERE featured = true ORDER BY rank LIMIT $1',
      ms: latencyMs(r, 3.5, 1.6),
    }));
    return { status: 200 };
  });
}

function catalogProduct(r: Random, b: Behaviour, id: string): Step {
  return handle(r, 'catalog', 'GET', '/products/{id}', `/products/${id}`, (s, t) => {
    const cached = chance(r, 0.7);
    t.call(s, db('catalog', { system: 'redis', operation: 'GET', statement: `GET product:${id}`, ms: latencyMs(r, 0.5, 1.5) }));
    if (cached) return { status: 200 };
    t.work(b.catalogPoolWaitMs);
    const notFound = chance(r, b.productNotFound);
    t.call(s, db('catalog', {
      system: 'postgresql',
      operation: 'SELECT',
      collection: 'products',
      statement: 'SELECT id, name, description, price_cents, stock FROM products WHERE id = $1',
      ms: latencyMs(r, 2.5, 1.5),
    }));
    if (notFound) {
      log(s, t.atMs, 'INFO', `product ${id} not found`, { 'product.id': id });
      return { status: 404 };
    }
    t.call(s, db('catalog', { system: 'redis', operation: 'SET', statement: `SET product:${id} ? EX 300`, ms: latencyMs(r, 0.5, 1.5) }));
    log(s, t.atMs, 'DEBUG', `cache miss for product ${id}, loaded from PostgreSQL`, { 'product.id': id, 'cache.hit': false });
    return { status: 200 };
  });
}

function catalogSearch(r: Random, b: Behaviour, term: string): Step {
  return handle(r, 'catalog', 'GET', '/products/search', '/products/search', (s, t) => {
    t.work(b.catalogPoolWaitMs);
    const slow = chance(r, b.slowSearch);
    const timeout = slow && chance(r, b.searchTimeout);
    const statement = 'SELECT id, name, price_cents FROM products WHERE name ILIKE $1 OR description ILIKE $1 ORDER BY rank LIMIT 50';
    const ms = timeout ? 5000 : slow ? Math.min(4800, latencyMs(r, b.slowSearchMs, 1.5)) : latencyMs(r, 6, 1.7);
    const q = t.call(s, db('catalog', {
      system: 'postgresql',
      operation: 'SELECT',
      collection: 'products',
      statement,
      ms,
      ...(timeout ? { error: { type: 'QueryCanceled', message: 'canceling statement due to statement timeout' } } : {}),
    }));
    if (timeout) return { status: 504, cause: q.error! };
    if (slow) log(s, t.atMs, 'WARN', `slow query: products search took ${Math.round(ms)} ms (sequential scan on products)`, { 'db.query.text': statement, 'search.term': term, duration_ms: Math.round(ms) });
    return { status: 200 };
  });
}

function cartGet(r: Random, b: Behaviour, user: string): Step {
  return handle(r, 'cart', 'GET', '/cart', '/cart', (s, t) => {
    const timeout = chance(r, b.redisTimeout);
    const q = t.call(s, db('cart', {
      system: 'redis',
      operation: 'HGETALL',
      statement: `HGETALL cart:${user}`,
      ms: timeout ? 1000 : latencyMs(r, b.cartRedisMs, 1.8),
      ...(timeout ? { error: { type: 'TimeoutError', message: 'Redis command timed out after 1000 ms' } } : {}),
    }));
    if (timeout) return { status: 503, cause: q.error! };
    log(s, t.atMs, 'DEBUG', `cart of ${user} loaded`, { 'user.id': user });
    return { status: 200 };
  });
}

function cartAdd(r: Random, b: Behaviour, user: string, product: string): Step {
  return handle(r, 'cart', 'POST', '/cart/items', '/cart/items', (s, t) => {
    const timeout = chance(r, b.redisTimeout);
    const q = t.call(s, db('cart', {
      system: 'redis',
      operation: 'HINCRBY',
      statement: `HINCRBY cart:${user} ${product} ?`,
      ms: timeout ? 1000 : latencyMs(r, b.cartRedisMs, 1.8),
      ...(timeout ? { error: { type: 'TimeoutError', message: 'Redis command timed out after 1000 ms' } } : {}),
    }));
    if (timeout) return { status: 503, cause: q.error! };
    t.call(s, db('cart', { system: 'redis', operation: 'EXPIRE', statement: `EXPIRE cart:${user} ?`, ms: latencyMs(r, b.cartRedisMs, 1.5) }));
    log(s, t.atMs, 'INFO', `added ${product} to the cart of ${user}`, { 'user.id': user, 'product.id': product });
    return { status: 201 };
  });
}

function paymentCharge(r: Random, b: Behaviour, order: string, cents: number): Step {
  return handle(r, 'payment', 'POST', '/charges', '/charges', (s, t) => {
    t.call(s, internal('payment', 'fraud check', latencyMs(r, 4, 1.5), { 'order.id': order }));
    const failed = chance(r, b.providerFailure);
    const declined = !failed && chance(r, b.cardDeclined);
    const status = failed ? 502 : declined ? 402 : 200;
    const ms = latencyMs(r, b.providerMs, 1.6);
    const c = step('payment', 'POST', 'client', {
      'http.request.method': 'POST',
      'url.full': `https://${PROVIDER_HOST}/v1/charges`,
      'server.address': PROVIDER_HOST,
      'server.port': 443,
      'network.protocol.version': '2',
      'http.response.status_code': status,
    });
    c.durationMs = round(ms);
    if (status >= 400) {
      c.attributes['error.type'] = String(status);
      fail(c, 'HttpError', `${status} ${STATUS_TEXT[status]!}`);
    }
    t.call(s, c);
    const attrs = { 'order.id': order, 'payment.amount_cents': cents, 'payment.provider': PROVIDER_HOST };
    if (failed) {
      return { status: 502, cause: { type: 'PaymentProviderError', message: `payment provider answered 502 Bad Gateway for order ${order}` } };
    }
    if (declined) {
      log(s, t.atMs, 'WARN', `card declined for order ${order}: insufficient_funds`, { ...attrs, 'payment.decline_code': 'insufficient_funds' });
      return { status: 402 };
    }
    log(s, t.atMs, 'INFO', `charge authorized for order ${order}`, attrs);
    return { status: 200 };
  });
}

function notify(r: Random, order: string, user: string): Step {
  return handle(r, 'notification', 'POST', '/notify', '/notify', (s, t) => {
    t.call(s, db('notification', { system: 'redis', operation: 'SET', statement: `SET notified:${order} ? NX EX ?`, ms: latencyMs(r, 0.5, 1.5) }));
    t.call(s, internal('notification', 'render email template', latencyMs(r, 6, 1.5), { 'email.template': 'order-confirmation' }));
    log(s, t.atMs, 'INFO', `order confirmation for ${order} queued for ${user}`, { 'order.id': order, 'user.id': user });
    return { status: 202 };
  });
}

/** The fulfillment service's consumer span for one `orders` message, with its own work under it. */
function fulfill(r: Random, order: string, user: string, partition: number, offset: number): Step {
  const s = step('fulfillment', `process ${ORDERS_TOPIC}`, 'consumer', {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.operation': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': ORDERS_TOPIC,
    'messaging.consumer.group.name': 'fulfillment',
    'messaging.destination.partition.id': String(partition),
    'messaging.kafka.offset': offset,
    'messaging.kafka.message.key': order,
    'server.address': KAFKA.host,
    'server.port': KAFKA.port,
  });
  const t = new Timeline(r, 0);
  t.work(0.5);
  t.call(s, db('fulfillment', {
    system: 'postgresql',
    operation: 'UPDATE',
    collection: 'orders',
    statement: "UPDATE orders SET status = 'fulfilling', updated_at = now() WHERE id = $1",
    ms: latencyMs(r, 4, 1.6),
  }));
  t.call(s, internal('fulfillment', 'reserve stock', latencyMs(r, 8, 1.8), { 'order.id': order }));
  t.call(s, httpCall(r, 'fulfillment', notify(r, order, user)));
  t.work(0.3);
  s.durationMs = round(t.atMs);
  log(s, s.durationMs, 'INFO', `order ${order} picked for fulfillment`, { 'order.id': order, 'messaging.kafka.offset': offset });
  return s;
}

/** Orders sent to Kafka so far: the offsets the plans give their messages, per partition. */
export interface OrderLog {
  nextOffset: number[];
}

export function newOrderLog(): OrderLog {
  return { nextOffset: Array.from({ length: KAFKA.partitions }, () => 0) };
}

function checkout(r: Random, b: Behaviour, user: string, orders: OrderLog): Step {
  const order = `ord_${token(r, 12, '0123456789abcdefghijklmnopqrstuvwxyz')}`;
  const cents = Math.round(between(r, 800, 25_000));
  return handle(r, 'checkout', 'POST', '/checkout', '/checkout', (s, t) => {
    const cart = t.call(s, httpCall(r, 'checkout', cartGet(r, b, user)));
    if (cart.error) return { status: 503, cause: callResult(cart).cause ?? cart.error };
    t.work(1.5);
    const pay = t.call(s, httpCall(r, 'checkout', paymentCharge(r, b, order, cents)));
    const paid = callResult(pay);
    if (paid.status === 402) {
      log(s, t.atMs, 'INFO', `order ${order} not placed: card declined`, { 'order.id': order, 'user.id': user });
      return { status: 402 };
    }
    if (paid.status >= 500) return { status: 502, ...(paid.cause ? { cause: paid.cause } : {}) };
    t.call(s, db('checkout', {
      system: 'postgresql',
      operation: 'INSERT',
      collection: 'orders',
      statement: 'INSERT INTO orders (id, user_id, total_cents, status) VALUES ($1, $2, $3, $4)',
      ms: latencyMs(r, 3, 1.5),
    }));
    const partition = Math.floor(r() * KAFKA.partitions);
    const offset = orders.nextOffset[partition]!++;
    const send = step('checkout', `send ${ORDERS_TOPIC}`, 'producer', {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.operation': 'publish',
      'messaging.operation.name': 'send',
      'messaging.destination.name': ORDERS_TOPIC,
      'messaging.destination.partition.id': String(partition),
      'messaging.kafka.message.key': order,
      'messaging.kafka.offset': offset,
      'server.address': KAFKA.host,
      'server.port': KAFKA.port,
    });
    send.durationMs = round(latencyMs(r, 3, 1.5));
    const consumer = fulfill(r, order, user, partition, offset);
    // In the topic: the usual wait, plus whatever is left of a consumer-group stall.
    consumer.offsetMs = round(send.durationMs + b.stallLeftMs + latencyMs(r, b.queueWaitMs, 2));
    send.children.push(consumer);
    t.call(s, send);
    log(s, t.atMs, 'INFO', `order ${order} placed`, { 'order.id': order, 'user.id': user, 'order.total_cents': cents });
    return { status: 200 };
  });
}

// ---------------------------------------------------------------------------------------------------- frontend

const PRODUCTS = ['66VCHSJNUP', '9SIQT8TOJO', '1YMWWN1N4O', 'L9ECAV7KIM', '2ZYFJ3GM2N', '0PUK6V6EV0', 'LS4PSXUNUM', 'OLJCESPC7Z', 'HQTGWGPNH4'];
const TERMS = ['telescope', 'lens', 'tripod', 'binoculars', 'star map', 'eyepiece', 'red dot finder', 'solar filter'];
const USER_AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
];

const FRONTEND_BUG = {
  type: 'TypeError',
  message: "Cannot read properties of undefined (reading 'priceCents')",
  stack:
    "TypeError: Cannot read properties of undefined (reading 'priceCents')\n    at formatPrice (/app/src/lib/money.ts:14:22)\n" +
    '    at renderProductCard (/app/src/pages/home.tsx:41:17)\n    at Array.map (<anonymous>)\n    at renderHome (/app/src/pages/home.tsx:28:31)',
};

/** The root of one request: the frontend's server span and everything under it. */
export function planRequest(r: Random, c: Conditions, orders: OrderLog): Step {
  const b = behaviour(c);
  const route = weighted(r, ROUTES);
  const user = `user-${Math.floor(r() * 5000)}`;
  const product = pick(r, PRODUCTS);
  const path = { home: '/', product: `/product/${product}`, search: '/search', 'add-to-cart': '/cart', checkout: '/checkout' }[route];
  const [method, template] = ({
    home: ['GET', '/'],
    product: ['GET', '/product/{id}'],
    search: ['GET', '/search'],
    'add-to-cart': ['POST', '/cart'],
    checkout: ['POST', '/checkout'],
  } as const)[route];
  const root = handle(r, 'frontend', method, template, path, (s, t) => {
    t.work(1);
    const call = (server: Step) => callResult(t.call(s, httpCall(r, 'frontend', server)));
    switch (route) {
      case 'home': {
        const list = call(catalogList(r, b));
        if (list.status >= 500) return { status: 502, ...(list.cause ? { cause: list.cause } : {}) };
        const cart = call(cartGet(r, b, user));
        // The home page renders without the cart when the cart is down: degraded, not failed.
        if (cart.status >= 500) log(s, t.atMs, 'WARN', 'cart unavailable, rendering the home page without it', { 'user.id': user });
        t.work(4);
        if (chance(r, b.frontendBug)) return { status: 500, cause: FRONTEND_BUG };
        return { status: 200 };
      }
      case 'product': {
        const p = call(catalogProduct(r, b, product));
        t.work(3);
        return p.status >= 500 ? { status: 502, ...(p.cause ? { cause: p.cause } : {}) } : { status: p.status };
      }
      case 'search': {
        const term = pick(r, TERMS);
        s.attributes['url.query'] = `q=${encodeURIComponent(term)}`;
        const found = call(catalogSearch(r, b, term));
        t.work(3);
        return found.status >= 500 ? { status: found.status, ...(found.cause ? { cause: found.cause } : {}) } : { status: 200 };
      }
      case 'add-to-cart': {
        const added = call(cartAdd(r, b, user, product));
        return added.status >= 500 ? { status: 503, ...(added.cause ? { cause: added.cause } : {}) } : { status: 201 };
      }
      case 'checkout': {
        const done = call(checkout(r, b, user, orders));
        t.work(2);
        return done.status >= 500 ? { status: 502, ...(done.cause ? { cause: done.cause } : {}) } : { status: done.status };
      }
    }
  });
  root.attributes['user_agent.original'] = pick(r, USER_AGENTS);
  root.attributes['client.address'] = `203.0.113.${1 + Math.floor(r() * 250)}`;
  root.attributes['enduser.id'] = user;
  return root;
}

/** How long after the root's start the last step of the tree ends (the Kafka consumer may outlast the root). */
export function extentMs(s: Step): number {
  return Math.max(s.durationMs, ...s.children.map((c) => c.offsetMs + extentMs(c)));
}

/** Every step of the tree, depth first, with its parent. */
export function* walk(s: Step, parent?: Step): Generator<{ step: Step; parent: Step | undefined }> {
  yield { step: s, parent };
  for (const c of s.children) yield* walk(c, s);
}
