import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { pgSafeJson } from '../whatsapp/storage/pg-safe';
import { EventOutbox } from '../whatsapp/event-outbox';
import { DurableEventName, DurableEvents } from '../whatsapp/events';
import { GlobalTarget, WebhookDeliveryRepository, queueKey } from './webhook-delivery.repository';

/**
 * The outbox the services write to, in their transactions: one delivery row per webhook that
 * carries the event (the session's own setting, else `WEBHOOK_URL`), none when no webhook does.
 *
 * It tells the worker when rows became visible: when the transaction that wrote them commits (a
 * TypeORM transaction subscriber, registered as NestJS's TypeORM docs show), never earlier, so that
 * a worker that looked in between cannot miss them.
 */
@Injectable()
export class WebhookOutbox implements EventOutbox, EntitySubscriberInterface {
  private readonly global: GlobalTarget | null;
  /** Transactions that wrote delivery rows and have not ended yet, with the queues they wrote to (queueKey). */
  // Weak: a transaction whose connection died may end with neither event.
  private readonly writing = new WeakMap<QueryRunner, Set<string>>();
  private committed: (queues: ReadonlySet<string>) => void = () => undefined;
  private purgeListener: (sessionId: string) => () => void = () => () => undefined;

  constructor(
    private readonly deliveries: WebhookDeliveryRepository,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'webhook'>,
    @InjectDataSource() dataSource: DataSource,
  ) {
    this.global = config.webhook ? { url: config.webhook.url, secret: config.webhook.secret ?? null, events: config.webhook.events } : null;
    dataSource.subscribers.push(this);
  }

  /** `listener` is called each time delivery rows were committed, with the queues they belong to (queueKey). */
  onCommitted(listener: (queues: ReadonlySet<string>) => void): void {
    this.committed = listener;
  }

  /** `listener` is called when a purge of a session starts; what it answers, when the purge has ended. */
  onPurge(listener: (sessionId: string) => () => void): void {
    this.purgeListener = listener;
  }

  async purging<T>(sessionId: string, purge: () => Promise<T>): Promise<T> {
    const ended = this.purgeListener(sessionId);
    try {
      return await purge();
    } finally {
      ended();
    }
  }

  async record<E extends DurableEventName>(manager: EntityManager, sessionId: string, event: E, payload: DurableEvents[E]): Promise<void> {
    this.wrote(manager, sessionId, await this.deliveries.enqueue(manager, sessionId, event, pgSafeJson(payload), this.global));
  }

  async recordAll<E extends DurableEventName>(manager: EntityManager, sessionId: string, event: E, payloads: readonly DurableEvents[E][]): Promise<void> {
    if (payloads.length === 0) return;
    this.wrote(manager, sessionId, await this.deliveries.enqueueAll(manager, sessionId, event, pgSafeJson(payloads), this.global));
  }

  async forgetMessages(manager: EntityManager, sessionId: string): Promise<void> {
    await this.deliveries.deleteMessageEvents(manager, sessionId);
  }

  afterTransactionCommit({ queryRunner }: TransactionCommitEvent): void {
    // A savepoint released is not a commit: the rows show once the whole transaction commits.
    if (queryRunner.isTransactionActive) return;
    const queues = this.writing.get(queryRunner);
    if (!queues) return;
    this.writing.delete(queryRunner);
    this.committed(queues);
  }

  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent): void {
    if (!queryRunner.isTransactionActive) this.writing.delete(queryRunner);
  }

  private wrote(manager: EntityManager, sessionId: string, urls: string[]): void {
    if (urls.length === 0) return;
    const runner = manager.queryRunner;
    // Outside a transaction the insert committed on its own.
    if (!runner?.isTransactionActive) return this.committed(new Set(urls.map((url) => queueKey(sessionId, url))));
    let queues = this.writing.get(runner);
    if (!queues) this.writing.set(runner, (queues = new Set()));
    for (const url of urls) queues.add(queueKey(sessionId, url));
  }
}
