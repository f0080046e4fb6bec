import { Logger } from '@nestjs/common';
import type { ClientBase } from 'pg';
import { errorText } from '../common/error-text';

const logger = new Logger('Database');

/**
 * Gives a pg client an 'error' listener for its whole life, so that an error it emits is logged and
 * never unheard. An EventEmitter's 'error' with no listener is thrown, and that ends the process.
 *
 * Clients of the pool need it too: pg-pool takes its own listener off a client as it hands it out, and
 * TypeORM puts its listener on one promise turn later. When PostgreSQL terminates a backend that is
 * just starting, its FATAL (57P01) can come in the same read as the ReadyForQuery that finished the
 * connection; pg handles both in one go, so the error is emitted in between, to nobody.
 *
 * The client is not used again: pg marks it unusable, a query on it fails, and the pool drops it.
 */
export function logClientErrors(client: Pick<ClientBase, 'on'>, what: string): void {
  client.on('error', (error: Error & { code?: string }) => {
    logger.warn(`${what} failed: ${errorText(error)}${error.code ? ` (${error.code})` : ''}`);
  });
}
