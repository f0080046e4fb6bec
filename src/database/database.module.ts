import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ENTITIES } from './entities';
import { typeOrmOptions } from './typeorm-options';
import { LevelledTypeOrmLogger, NestTypeOrmLogger } from './typeorm-logger';

/** The entities' repositories, for the modules that read and write them. */
@Module({
  imports: [TypeOrmModule.forFeature(ENTITIES)],
  exports: [TypeOrmModule],
})
export class DatabaseModule {
  /**
   * The connection, once, in AppModule: TypeORM on `DATABASE_URL`. By the time this module is built,
   * `main.ts` has filled that in with the embedded server's URL when none was configured. `logger`
   * replaces the app's TypeORM logger (`NestTypeOrmLogger`).
   */
  static forRoot(logger: LevelledTypeOrmLogger = new NestTypeOrmLogger()): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => {
            if (!config.databaseUrl) throw new Error('DATABASE_URL is not resolved: start the app through bootstrap()');
            return typeOrmOptions(config.databaseUrl, config.dbPoolSize, logger);
          },
        }),
      ],
    };
  }
}
