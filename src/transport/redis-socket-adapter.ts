import { Logger } from '@nestjs/common';
import { createAdapter } from '@socket.io/redis-adapter';
import type Redis from 'ioredis';
import type { Server } from 'socket.io';
import { errorText } from '../common/error-text';
import { RedisConnection } from '../redis/redis-connection';

const logger = new Logger('RedisAdapter');

/**
 * Socket.IO across instances (REDIS_URL): the Redis pub/sub adapter. A room event is published once
 * to Redis and every instance sends it to its own sockets of the room; one instance's events reach
 * every subscriber in the order it published them (one publishing connection, one subscription).
 * The pub/sub adapter rather than the streams one: events are live progress, which a reconnecting
 * socket gets back from the join replay, not from a replayed stream.
 */
export function useRedisAdapter(server: Server, redis: RedisConnection): void {
  const { pub, sub } = redis.pair;
  // A join waits at most `requestsTimeout` for the instance that runs its session to replay it.
  server.adapter(createAdapter(publishingQuietly(pub), sub, { key: `${redis.prefix}:socket.io`, requestsTimeout: 2000, publishOnSpecificResponseChannel: true }));
}

/**
 * The adapter does not handle a failed publish (Redis down): each room event would be an unhandled
 * rejection. The event is lost for the other instances' sockets (their join replay catches them
 * up); the connection logs the outage once, and this logs the first publish lost.
 */
function publishingQuietly(pub: Redis): Redis {
  let failing = false;
  return new Proxy(pub, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property !== 'publish' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) =>
        (value as (...a: unknown[]) => Promise<number>).apply(target, args).then(
          (receivers) => {
            failing = false;
            return receivers;
          },
          (error: unknown) => {
            if (!failing) logger.warn(`events not published to the other instances: ${errorText(error)}`);
            failing = true;
            return 0;
          },
        );
    },
  });
}
