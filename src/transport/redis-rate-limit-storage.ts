import { Logger, OnModuleDestroy } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { errorText } from '../common/error-text';
import { RedisConfig } from '../config/app-config';

/** What the throttler's storage answers for one request (the package's index does not name it). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** What a request counts as while Redis does not answer: nothing, so it goes through. */
const NOT_COUNTED: ThrottlerStorageRecord = { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };

/**
 * Rate limit counters in the instances' Redis (`REDIS_URL`, keys under `REDIS_PREFIX`), so that a
 * client's requests count the same whichever instance they reach; the counting is the Redis store's
 * (@nest-lab/throttler-storage-redis). While Redis does not answer, requests are let through
 * uncounted rather than refused with a 500: `/health` reports Redis down meanwhile.
 */
export class RedisRateLimitStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly logger = new Logger('RateLimit');
  private readonly store: ThrottlerStorageRedisService;
  private failing = false;

  constructor({ url, prefix }: RedisConfig) {
    this.store = new ThrottlerStorageRedisService(url, { keyPrefix: `${prefix}:rate:`, maxRetriesPerRequest: 1 });
    // ioredis reconnects by itself; RedisConnection logs the outage.
    this.store.redis.on('error', () => undefined);
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    try {
      const record = await this.store.increment(key, ttl, limit, blockDuration, throttlerName);
      if (this.failing) this.logger.log('rate limits are counted in Redis again');
      this.failing = false;
      return record;
    } catch (error) {
      if (!this.failing) this.logger.warn(`rate limits not counted while Redis does not answer: ${errorText(error)}`);
      this.failing = true;
      return NOT_COUNTED;
    }
  }

  onModuleDestroy(): void {
    this.store.onModuleDestroy();
  }
}
