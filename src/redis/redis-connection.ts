import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { errorText } from '../common/error-text';
import { withTimeout } from '../common/with-timeout';

const CONNECT_TIMEOUT_MS = 5000;

/**
 * The Redis that instances share (`REDIS_URL`), when set: one connection that publishes and one that
 * subscribes (a subscribed connection can do nothing else). Connected before the app takes requests,
 * so that a Redis that does not answer stops the start naming REDIS_URL; afterwards ioredis
 * reconnects by itself, and `/health` says whether it answers.
 */
@Injectable()
export class RedisConnection implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnection.name);
  private clients: { pub: Redis; sub: Redis } | undefined;
  /** The last error logged: a Redis that stays down logs once, not at every reconnection attempt. */
  private lastError: string | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'redis'>) {}

  get enabled(): boolean {
    return this.config.redis !== undefined;
  }

  /** Key and channel prefix (REDIS_PREFIX). */
  get prefix(): string {
    return this.config.redis?.prefix ?? '';
  }

  /** The two connections; only when `enabled`, after the module was initialized. */
  get pair(): { pub: Redis; sub: Redis } {
    if (!this.clients) throw new Error('Redis is not configured (REDIS_URL)');
    return this.clients;
  }

  async onModuleInit(): Promise<void> {
    const redis = this.config.redis;
    if (!redis) return;
    const where = redisAddress(redis.url);
    const pub = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    const sub = pub.duplicate();
    for (const client of [pub, sub]) {
      client.on('error', (error: Error) => {
        const text = errorText(error);
        if (text !== this.lastError) this.logger.warn(`Redis at ${where}: ${text}`);
        this.lastError = text;
      });
      client.on('ready', () => {
        if (this.lastError !== undefined) this.logger.log(`Redis at ${where} answers again`);
        this.lastError = undefined;
      });
    }
    try {
      await withTimeout(Promise.all([pub.connect(), sub.connect()]), CONNECT_TIMEOUT_MS, `no answer within ${CONNECT_TIMEOUT_MS} ms`);
    } catch (error) {
      pub.disconnect();
      sub.disconnect();
      throw new Error(`REDIS_URL: Redis at ${where} does not answer (${errorText(error)})`);
    }
    this.clients = { pub, sub };
    this.logger.log(`connected to Redis at ${where}`);
  }

  /** Resolves once Redis answered a PING. */
  async ping(): Promise<void> {
    await this.pair.pub.ping();
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.clients) return;
    const { pub, sub } = this.clients;
    this.clients = undefined;
    await Promise.allSettled([pub.quit(), sub.quit()]);
  }
}

/** host:port of a Redis URL, never its password. */
export function redisAddress(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '6379'}`;
}
