import { createAdapter } from '@socket.io/redis-adapter';
import type { Server } from 'socket.io';
import { RedisConnection } from '../redis/redis-connection';

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
  server.adapter(createAdapter(pub, sub, { key: `${redis.prefix}:socket.io`, requestsTimeout: 2000, publishOnSpecificResponseChannel: true }));
}
