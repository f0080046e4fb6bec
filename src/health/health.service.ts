import { Injectable, Logger, Optional } from '@nestjs/common';
import { errorText } from '../common/error-text';
import { withTimeout } from '../common/with-timeout';
import { RedisConnection } from '../redis/redis-connection';
import { HealthRepository } from './health.repository';

/**
 * What `/health` answers. It is open to anyone (load balancers, no API key), so it says whether the
 * database answers and nothing about it: why it does not goes to the log.
 */
export interface HealthReport {
  status: 'ok' | 'error';
  database: 'up' | 'down';
  /** Only with REDIS_URL: whether Redis answers a PING. */
  redis?: 'up' | 'down';
  uptimeSeconds: number;
}

const DB_CHECK_TIMEOUT_MS = 2000;

@Injectable()
export class HealthService {
  private readonly logger = new Logger(HealthService.name);
  /** The last failure logged: a balancer polling a database that stays down logs it once, not every poll. */
  private lastFailure: string | undefined;

  constructor(
    private readonly database: HealthRepository,
    @Optional() private readonly redis?: RedisConnection,
  ) {}

  /** `ok` when the database, and Redis when REDIS_URL is set, answer; `error` (503) otherwise. */
  async check(): Promise<HealthReport> {
    const [database, redis] = await Promise.all([this.databaseState(), this.redis?.enabled ? this.redisState() : undefined]);
    const status = database === 'up' && redis !== 'down' ? 'ok' : 'error';
    return { status, database, ...(redis ? { redis } : {}), uptimeSeconds: Math.round(process.uptime()) };
  }

  private async databaseState(): Promise<'up' | 'down'> {
    try {
      await withTimeout(this.database.ping(), DB_CHECK_TIMEOUT_MS, `database did not answer within ${DB_CHECK_TIMEOUT_MS} ms`);
      if (this.lastFailure !== undefined) this.logger.log('health check: the database answers again');
      this.lastFailure = undefined;
      return 'up';
    } catch (error) {
      const detail = errorText(error);
      if (detail !== this.lastFailure) this.logger.warn(`health check: the database does not answer: ${detail}`);
      this.lastFailure = detail;
      return 'down';
    }
  }

  /** Why Redis is down is logged by its connection, once per change. */
  private async redisState(): Promise<'up' | 'down'> {
    try {
      await withTimeout(this.redis!.ping(), DB_CHECK_TIMEOUT_MS, `Redis did not answer within ${DB_CHECK_TIMEOUT_MS} ms`);
      return 'up';
    } catch {
      return 'down';
    }
  }
}
