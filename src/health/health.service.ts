import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { withTimeout } from '../common/with-timeout';

export interface HealthReport {
  status: 'ok' | 'error';
  database: 'up' | 'down';
  uptimeSeconds: number;
  error?: string;
}

const DB_CHECK_TIMEOUT_MS = 2000;

@Injectable()
export class HealthService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async check(): Promise<HealthReport> {
    const uptimeSeconds = Math.round(process.uptime());
    try {
      await withTimeout(this.dataSource.query('SELECT 1'), DB_CHECK_TIMEOUT_MS, `database did not answer within ${DB_CHECK_TIMEOUT_MS} ms`);
      return { status: 'ok', database: 'up', uptimeSeconds };
    } catch (error) {
      return { status: 'error', database: 'down', uptimeSeconds, error: (error as Error).message };
    }
  }
}

