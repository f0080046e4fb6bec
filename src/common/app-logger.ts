import { ConsoleLogger, LogLevel } from '@nestjs/common';

const SESSION_PREFIX = /^session=([A-Za-z0-9_-]{1,64}) ([\s\S]*)$/;

/**
 * Nest's console logger; in JSON mode, a line about a session (`session=<id> ...`, as every such line
 * in this service starts) gets a `sessionId` field, so log pipelines can filter by session.
 */
export class AppLogger extends ConsoleLogger {
  protected override getJsonLogObject(
    message: unknown,
    options: { context: string; logLevel: LogLevel; writeStreamType?: 'stdout' | 'stderr'; errorStack?: unknown },
  ) {
    const entry = super.getJsonLogObject(message, options);
    const match = typeof message === 'string' ? SESSION_PREFIX.exec(message) : null;
    return match ? { ...entry, sessionId: match[1], message: match[2] } : entry;
  }
}
