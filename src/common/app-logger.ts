import { ConsoleLogger, LogLevel } from '@nestjs/common';

/** What a log line may carry besides its text, as data: `logger.log('status ready', { sessionId })`. */
export interface LogFields {
  sessionId?: string;
  syncId?: string;
  chatId?: string;
  messageId?: string;
}

const FIELD_NAMES: ReadonlySet<string> = new Set<keyof LogFields>(['sessionId', 'syncId', 'chatId', 'messageId']);

/** A message and its fields, as one value through Nest's logger. */
class FieldedMessage {
  constructor(
    readonly text: string,
    readonly fields: LogFields,
  ) {}
}

/**
 * Nest's console logger, with fields. A `LogFields` object among a call's arguments becomes JSON
 * fields of its line (`{"sessionId": "sales-1", "message": "status ready", ...}`), so that log
 * pipelines filter by session; in pretty mode, the line names them after the text.
 */
export class AppLogger extends ConsoleLogger {
  override log(message: unknown, ...rest: unknown[]): void {
    super.log(...withFields(message, rest));
  }
  override error(message: unknown, ...rest: unknown[]): void {
    super.error(...withFields(message, rest));
  }
  override warn(message: unknown, ...rest: unknown[]): void {
    super.warn(...withFields(message, rest));
  }
  override debug(message: unknown, ...rest: unknown[]): void {
    super.debug(...withFields(message, rest));
  }
  override verbose(message: unknown, ...rest: unknown[]): void {
    super.verbose(...withFields(message, rest));
  }
  override fatal(message: unknown, ...rest: unknown[]): void {
    super.fatal(...withFields(message, rest));
  }

  protected override getJsonLogObject(
    message: unknown,
    options: { context: string; logLevel: LogLevel; writeStreamType?: 'stdout' | 'stderr'; errorStack?: unknown },
  ) {
    if (!(message instanceof FieldedMessage)) return super.getJsonLogObject(message, options);
    return { ...super.getJsonLogObject(message.text, options), ...message.fields, message: message.text };
  }

  protected override stringifyMessage(message: unknown, logLevel: LogLevel): string {
    if (!(message instanceof FieldedMessage)) return super.stringifyMessage(message, logLevel) as string;
    const fields = Object.entries(message.fields).map(([name, value]) => `${name}=${String(value)}`);
    return super.stringifyMessage(`${message.text} (${fields.join(' ')})`, logLevel) as string;
  }
}

function isLogFields(value: unknown): value is LogFields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => FIELD_NAMES.has(key));
}

/** The arguments for Nest's logger, with a fields object folded into the message. */
function withFields(message: unknown, rest: unknown[]): [unknown, ...unknown[]] {
  const at = rest.findIndex(isLogFields);
  if (at < 0 || typeof message !== 'string') return [message, ...rest];
  const fields = rest[at] as LogFields;
  return [new FieldedMessage(message, fields), ...rest.slice(0, at), ...rest.slice(at + 1)];
}
