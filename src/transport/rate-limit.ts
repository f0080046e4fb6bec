import { DynamicModule, ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerModule, ThrottlerModuleOptions } from '@nestjs/throttler';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { RedisRateLimitStorage } from './redis-rate-limit-storage';

/**
 * `RATE_LIMIT_MAX` REST requests per client IP in each `RATE_LIMIT_WINDOW_MS`, across every route
 * (a client that polls one route and one that walks all of them are counted alike). The static page,
 * `/docs` and Socket.IO are not controllers, so they are not counted. The health check, which load
 * balancers poll, is marked `@SkipThrottle()`: the exemption belongs to the route, however its path is
 * written (`/health/`), not to a list of path strings.
 */
export function rateLimitModule(): DynamicModule {
  return ThrottlerModule.forRootAsync({
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig): ThrottlerModuleOptions => ({
      // In memory: a sliding window and no penalty block (Retry-After is when the oldest counted
      // request leaves it). In Redis (REDIS_URL), shared by every instance: a window from a client's
      // first request, and past the limit a block of one window (the Redis store's rule).
      throttlers: [{ name: 'default', limit: config.rateLimit.max, ttl: config.rateLimit.windowMs, blockDuration: config.redis ? config.rateLimit.windowMs : 0 }],
      ...(config.redis ? { storage: new RedisRateLimitStorage(config.redis) } : {}),
      // One counter per client, not one per route.
      generateKey: (_context, tracker) => `rest:${tracker}`,
      errorMessage: (_context, detail) => {
        const seconds = Math.max(1, detail.timeToBlockExpire);
        return `Too many requests: at most ${detail.limit} every ${formatWindow(detail.ttl)} per client; retry in ${seconds} s`;
      },
    }),
  });
}

/**
 * The throttler as a global guard, on REST requests only: answers 429 `{statusCode, error, message}`
 * (the message says when to retry) with a `Retry-After` header in seconds.
 */
@Injectable()
export class RestThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    return this.disabled();
  }

  /** `RATE_LIMIT_MAX=0`. */
  private disabled(): boolean {
    return this.throttlers.every((throttler) => throttler.limit === 0);
  }
}

function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`;
  if (ms % 60_000 === 0) return ms === 60_000 ? 'minute' : `${ms / 60_000} minutes`;
  if (ms % 1000 === 0) return ms === 1000 ? 'second' : `${ms / 1000} seconds`;
  return `${ms} ms`;
}
