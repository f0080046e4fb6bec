import { Injectable, Logger } from '@nestjs/common';
import { errorText } from '../common/error-text';
import { PublishedEvent, SessionEventName, SessionEvents } from './events';

export type EventSubscriber = (event: PublishedEvent) => void;

/**
 * The one way an event leaves the service. Services publish; transports (the Socket.IO gateway today)
 * subscribe. Subscribers run synchronously, in the order they subscribed, so that every subscriber
 * sees a session's events in the order they were published; one that throws is logged and skipped,
 * and the others still get the event.
 */
@Injectable()
export class EventPublisher {
  private readonly logger = new Logger(EventPublisher.name);
  private readonly subscribers = new Set<EventSubscriber>();

  publish<E extends SessionEventName>(sessionId: string, event: E, payload: SessionEvents[E]): void {
    const published = { sessionId, event, payload } as PublishedEvent;
    for (const subscriber of this.subscribers) {
      try {
        subscriber(published);
      } catch (error) {
        this.logger.error(`a subscriber failed on ${event}: ${errorText(error)}`, { sessionId });
      }
    }
  }

  /** Returns the function that unsubscribes. */
  subscribe(subscriber: EventSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }
}
