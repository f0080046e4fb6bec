import { Global, Module } from '@nestjs/common';
import { RedisConnection } from './redis-connection';

/** The shared Redis of several instances (REDIS_URL), for whoever needs it: the Socket.IO adapter, the health check. */
@Global()
@Module({ providers: [RedisConnection], exports: [RedisConnection] })
export class RedisModule {}
