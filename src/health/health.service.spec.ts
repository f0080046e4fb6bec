import { Logger } from '@nestjs/common';
import { HealthRepository } from './health.repository';
import { HealthService } from './health.service';

/** A database that answers, or fails with the error given. */
class FakeDatabase {
  failure: Error | undefined;

  async ping(): Promise<void> {
    if (this.failure) throw this.failure;
  }
}

describe('HealthService', () => {
  let database: FakeDatabase;
  let health: HealthService;
  let warn: jest.SpyInstance;
  let log: jest.SpyInstance;

  beforeEach(() => {
    database = new FakeDatabase();
    health = new HealthService(database as unknown as HealthRepository);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('answers ok while the database answers, and logs nothing', async () => {
    expect(await health.check()).toEqual({ status: 'ok', database: 'up', uptimeSeconds: expect.any(Number) });
    expect(warn).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });

  it('says only "down" to its open route; the reason, which names the database, goes to the log once', async () => {
    database.failure = new Error('connect ECONNREFUSED 10.1.2.3:5432');
    const down = { status: 'error', database: 'down', uptimeSeconds: expect.any(Number) };
    expect(await health.check()).toStrictEqual(down);
    expect(await health.check()).toStrictEqual(down);
    expect(warn.mock.calls).toEqual([['health check: the database does not answer: connect ECONNREFUSED 10.1.2.3:5432']]);

    database.failure = new Error('database "whatsapp" does not exist');
    expect(await health.check()).toStrictEqual(down);
    expect(warn.mock.calls.at(-1)).toEqual(['health check: the database does not answer: database "whatsapp" does not exist']);

    database.failure = undefined;
    expect(await health.check()).toEqual({ status: 'ok', database: 'up', uptimeSeconds: expect.any(Number) });
    expect(log.mock.calls).toEqual([['health check: the database answers again']]);
  });
});
