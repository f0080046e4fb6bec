import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

/**
 * Every HTTP error is `{statusCode, error, message}` with one readable message. HTTP exceptions keep
 * their status; body-parser errors (bad or oversized JSON) keep their 4xx; anything else is logged
 * and answered as a plain 500 with no internals.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (response.headersSent) return;
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const answer = exception.getResponse();
      const message = typeof answer === 'string' ? answer : (answer as { message?: unknown }).message;
      return { statusCode, error: reasonOf(statusCode), message: textOf(message, exception.message) };
    }
    const clientError = asClientError(exception);
    if (clientError) return clientError;
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`database unavailable: ${(exception as Error).message}`);
      return { statusCode: 503, error: reasonOf(503), message: 'The database is unavailable; try again later' };
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return { statusCode: 500, error: reasonOf(500), message: 'Internal server error' };
  }
}

/** SQLSTATE classes and codes, and socket errors, that mean "no database right now", not "bad query". */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|not currently accepting connections|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection due to administrator command/i;

/**
 * A query that failed because PostgreSQL cannot be reached (down, restarting, connections dropped)
 * is a 503 the client may retry, not a 500. The pool reconnects on its own once it is back.
 */
export function isDatabaseUnavailable(exception: unknown): boolean {
  for (let error = exception, depth = 0; typeof error === 'object' && error !== null && depth < 3; depth++) {
    const { code, message, driverError, cause } = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
    error = driverError ?? cause;
  }
  return false;
}

/** body-parser and friends throw plain errors carrying `status` and `expose`. */
function asClientError(exception: unknown): ErrorBody | undefined {
  if (typeof exception !== 'object' || exception === null) return undefined;
  const { status, expose, message } = exception as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499 || expose !== true) return undefined;
  return { statusCode: status, error: reasonOf(status), message: typeof message === 'string' ? message : reasonOf(status) };
}

function textOf(message: unknown, fallback: string): string {
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : fallback;
}

function reasonOf(status: number): string {
  const name = HttpStatus[status] as string | undefined;
  if (!name) return 'Error';
  return name
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}
