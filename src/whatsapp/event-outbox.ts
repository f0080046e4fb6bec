import type { EntityManager } from 'typeorm';
import { DurableEventName, DurableEvents } from './events';

/** The injection token of the outbox (the webhooks module provides it). */
export const EVENT_OUTBOX = Symbol('EVENT_OUTBOX');

/**
 * Where events that must not be lost are written: inside the transaction (`manager`) of the change
 * they report, so that both commit or neither does. Who receives them, and how, is the outbox's
 * business (webhooks); a service only says what happened.
 */
export interface EventOutbox {
  record<E extends DurableEventName>(manager: EntityManager, sessionId: string, event: E, payload: DurableEvents[E]): Promise<void>;
  /** `record` of several events of one name at once, in the order given. */
  recordAll<E extends DurableEventName>(manager: EntityManager, sessionId: string, event: E, payloads: readonly DurableEvents[E][]): Promise<void>;
  /** A purge: what the outbox holds of the session's messages goes with them, sent or not. */
  forgetMessages(manager: EntityManager, sessionId: string): Promise<void>;
  /**
   * Runs `purge`, the transaction that calls `forgetMessages`: until it has ended, committed or
   * not, nothing the outbox holds of the session is sent from this process.
   */
  purging<T>(sessionId: string, purge: () => Promise<T>): Promise<T>;
}
