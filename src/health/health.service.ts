import { Injectable, Logger } from '@nestjs/common';
import { errorText } from '../common/error-text';
import { withTimeout } from '../common/with-timeout';
import { HealthRepository } from './health.repository';

/**
 * What `/health` answers. It is open to anyone (load balancers, no API key), so it says whether the
 * database answers and nothing about it: why it does not goes to the log.
 */
export interface HealthReport {
  status: 'ok' | 'error';
  database: 'up' | 'down';
  uptimeSeconds: number;
}

const DB_CHECK_TIMEOUT_MS = 2000;

@Injectable()
export class HealthService {
  private readonly logger = new Logger(HealthService.name);
  /** The last failure logged: a balancer polling a database that stays down logs it once, not every poll. */
  private lastFailure: string | undefined;

  constructor(private readonly database: HealthRepository) {}

  async check(): Promise<HealthReport> {
    const uptimeSeconds = Math.round(process.uptime());
    try {
      await withTimeout(this.database.ping(), DB_CHECK_TIMEOUT_MS, `database did not answer within ${DB_CHECK_TIMEOUT_MS} ms`);
      if (this.lastFailure !== undefined) this.logger.log('health check: the database answers again');
      this.lastFailure = undefined;
      return { status: 'ok', database: 'up', uptimeSeconds };
    } catch (error) {
      const detail = errorText(error);
      if (detail !== this.lastFailure) this.logger.warn(`health check: the database does not answer: ${detail}`);
      this.lastFailure = detail;
      return { status: 'error', database: 'down', uptimeSeconds };
    }
  }
}
