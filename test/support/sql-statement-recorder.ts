import type { LoggerOptions } from 'typeorm';
import { NestTypeOrmLogger } from '../../src/database/typeorm-logger';

/**
 * The app's TypeORM logger, which also records the SQL statements sent once asked to: passed to the
 * app as `createApp`'s `typeormLogger`, it lets a test count what a sync sends.
 */
export class SqlStatementRecorder extends NestTypeOrmLogger {
  override readonly levels: LoggerOptions = ['query', 'error', 'warn', 'migration'];
  /** The statements since `startRecording`, while recording. */
  recorded: string[] | undefined;

  startRecording(): void {
    this.recorded = [];
  }

  /** The statements recorded since `startRecording`; recording stops. */
  stopRecording(): string[] {
    const recorded = this.recorded ?? [];
    this.recorded = undefined;
    return recorded;
  }

  override logQuery(query: string): void {
    this.recorded?.push(query);
  }
}
