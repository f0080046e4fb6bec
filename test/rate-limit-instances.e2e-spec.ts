import { ServiceProcess } from './support/service-process';
import { TcpRelay } from './support/tcp-relay';
import { TestDatabase } from './support/test-database';

/** With REDIS_URL the rate limit counts a client's requests on every instance together, in Redis. */
describe('rate limits across instances', () => {
  const prefix = `wa-rate-${process.pid}-${Date.now()}`;
  let db: TestDatabase;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    db = await TestDatabase.create();
  });
  afterAll(async () => {
    for (const service of services) service.kill();
    await Promise.all(services.map((service) => service.exited));
    await db?.drop();
  });

  it('3 requests a minute: two on A and one on B pass, the next on either is a 429 for the rest of the window', async () => {
    const env = { DATABASE_URL: db.url, WA_PROVIDER: 'simulated', REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' };
    const [a, b] = await Promise.all([ServiceProcess.start({ ...env, INSTANCE_ID: 'A' }), ServiceProcess.start({ ...env, INSTANCE_ID: 'B' })]);
    services.push(a, b);
    const get = (base: string) => fetch(`${base}/whatsapp-web/sessions`);
    const statuses: number[] = [];
    for (const base of [a.baseUrl, a.baseUrl, b.baseUrl]) statuses.push((await get(base)).status);
    expect(statuses).toEqual([200, 200, 200]);
    for (const base of [b.baseUrl, a.baseUrl]) {
      const refused = await get(base);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(50);
      expect(await refused.json()).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/^Too many requests: at most 3 every minute per client; retry in \d+ s$/) });
    }
  });

  it('Redis gone: requests pass uncounted, not refused with a 500', async () => {
    const relay = new TcpRelay({ host: '127.0.0.1', port: 6379 });
    await relay.open();
    try {
      const env = { DATABASE_URL: db.url, WA_PROVIDER: 'simulated', REDIS_URL: `redis://127.0.0.1:${relay.port}`, REDIS_PREFIX: `${prefix}-c`, RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_MS: '60000' };
      const c = await ServiceProcess.start({ ...env, INSTANCE_ID: 'C' });
      services.push(c);
      const get = () => fetch(`${c.baseUrl}/whatsapp-web/sessions`).then((r) => r.status);
      expect(await get()).toBe(200);
      expect(await get()).toBe(429);
      await relay.cut();
      expect([await get(), await get()]).toEqual([200, 200]);
      expect(c.log).toContain('rate limits not counted while Redis does not answer');
    } finally {
      await relay.cut().catch(() => undefined);
    }
  });
});
