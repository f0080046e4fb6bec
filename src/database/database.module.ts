import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ENTITIES } from './entities';
import { typeOrmOptions } from './typeorm-options';

/**
 * TypeORM on `DATABASE_URL`. By the time this module is built, `main.ts` has filled that in with the
 * embedded server's URL when none was configured.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        if (!config.databaseUrl) throw new Error('DATABASE_URL is not resolved: start the app through bootstrap()');
        return typeOrmOptions(config.databaseUrl, config.dbPoolSize);
      },
    }),
    TypeOrmModule.forFeature(ENTITIES),
  ],
  exports: [TypeOrmModule],
})
export class DatabaseModule {}
