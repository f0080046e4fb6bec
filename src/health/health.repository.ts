import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The database as the health check sees it: whether it answers a query. */
@Injectable()
export class HealthRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Resolves once the database answered a trivial query through the pool. */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
