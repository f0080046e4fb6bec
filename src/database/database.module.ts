import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ENTITIES } from './entities';
import { typeOrmOptions } from './typeorm-options';
import { SqlStatementCounter } from './sql-statement-counter';

/** One counter for the whole app, shared by TypeORM and whoever reads it. */
@Global()
@Module({ providers: [SqlStatementCounter], exports: [SqlStatementCounter] })
export class SqlStatementCounterModule {}

/**
 * TypeORM on `DATABASE_URL`. By the time this module is built, `main.ts` has filled that in with the
 * embedded server's URL when none was configured.
 */
@Module({
  imports: [
    SqlStatementCounterModule,
    TypeOrmModule.forRootAsync({
      imports: [SqlStatementCounterModule],
      inject: [APP_CONFIG, SqlStatementCounter],
      useFactory: (config: AppConfig, counter: SqlStatementCounter) => {
        if (!config.databaseUrl) throw new Error('DATABASE_URL is not resolved: start the app through bootstrap()');
        return typeOrmOptions(config.databaseUrl, config.dbPoolSize, counter);
      },
    }),
    TypeOrmModule.forFeature(ENTITIES),
  ],
  exports: [TypeOrmModule, SqlStatementCounterModule],
})
export class DatabaseModule {}
