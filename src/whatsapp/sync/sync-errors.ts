import { BadGatewayException, ConflictException, HttpException, ServiceUnavailableException } from '@nestjs/common';

/** WhatsApp itself failed (the chat list could not be fetched). */
export class WhatsappCallError extends Error {}

/** The session left `ready` while its sync was running. */
export class SessionNotReadyError extends Error {}

/** The service is shutting down: the run stops between two chats and is recorded as interrupted. */
export class SyncInterruptedError extends Error {}

/** The HTTP answer of a run that failed as a whole: its message is the run's `error`. */
export function syncFailureToHttp(error: unknown, message: string): HttpException {
  const text = `Synchronization failed: ${message}`;
  if (error instanceof SessionNotReadyError) return new ConflictException(text);
  if (error instanceof WhatsappCallError) return new BadGatewayException(text);
  return new ServiceUnavailableException(text);
}
