import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { errorText } from '../common/error-text';

const CHANNEL = 'wa_session_handover';
const RECONNECT_MS = 1000;

/**
 * "Sessions were handed over": a PostgreSQL NOTIFY from an instance that is shutting down, so that
 * the others take its sessions at once instead of at their next scan. A notice that is missed (this
 * instance's connection was down) only delays the takeover until that scan.
 */
@Injectable()
export class HandoverChannel implements OnModuleDestroy {
  private readonly logger = new Logger(HandoverChannel.name);
  private client: Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'databaseUrl' | 'instance'>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async notify(): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [CHANNEL, this.config.instance.id]);
  }

  /** Calls `onNotice` for each notice of another instance, reconnecting while this instance runs. */
  listen(onNotice: () => void): void {
    if (this.closed || !this.config.databaseUrl) return;
    const client = new Client({ connectionString: this.config.databaseUrl });
    this.client = client;
    const again = (error?: unknown) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      if (this.closed) return;
      if (error) this.logger.warn(`handover notices paused, reconnecting: ${errorText(error)}`);
      this.retry = setTimeout(() => this.listen(onNotice), RECONNECT_MS);
      this.retry.unref();
    };
    client.on('error', again);
    client.on('end', () => again(new Error('connection ended')));
    client.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload !== this.config.instance.id) onNotice();
    });
    client.connect().then(() => client.query(`LISTEN ${CHANNEL}`)).catch(again);
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
