import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { EventPublisher } from '../whatsapp/event-publisher';
import { PublishedEvent } from '../whatsapp/events';
import { SESSION_STATUSES } from '../whatsapp/client/whatsapp.types';
import { SessionService } from '../whatsapp/session/session.service';
import { SyncTracker } from '../whatsapp/sync/sync-tracker';

/** Seconds: a one-chat catch-up takes milliseconds, a first import of a large account many minutes. */
const SYNC_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/**
 * The service's Prometheus metrics: one registry, filled from the published events (so that no
 * service knows of metrics) and, at scrape time, from the live sessions; plus the process's own.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  private unsubscribe: (() => void) | undefined;

  private readonly syncRuns = new Counter({
    name: 'wa_sync_runs_total',
    help: 'Sync runs ended, by mode and outcome (done, failed, interrupted).',
    labelNames: ['mode', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly syncDuration = new Histogram({
    name: 'wa_sync_duration_seconds',
    help: 'Duration of ended sync runs, by mode and outcome.',
    labelNames: ['mode', 'outcome'] as const,
    buckets: SYNC_DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly messagesSynced = new Counter({
    name: 'wa_sync_messages_synced_total',
    help: 'Messages stored by completed sync runs (new or unchanged), by mode.',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });
  private readonly messagesInserted = new Counter({
    name: 'wa_sync_messages_inserted_total',
    help: 'Of the messages synced, the rows that were new, by mode.',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });
  private readonly liveMessages = new Counter({
    name: 'wa_live_messages_total',
    help: 'Messages first stored from live traffic.',
    registers: [this.registry],
  });
  private readonly messageUpdates = new Counter({
    name: 'wa_message_updates_total',
    help: 'Live changes (edit, deletion, reaction, ack) that changed a stored message.',
    registers: [this.registry],
  });

  constructor(
    private readonly publisher: EventPublisher,
    private readonly sessions: SessionService,
    private readonly tracker: SyncTracker,
  ) {
    collectDefaultMetrics({ register: this.registry });
    const live = this.sessions;
    new Gauge({
      name: 'wa_sessions',
      help: 'Sessions this instance runs, by status.',
      labelNames: ['status'] as const,
      registers: [this.registry],
      collect() {
        const counts = live.countByStatus();
        for (const status of SESSION_STATUSES) this.set({ status }, counts[status]);
      },
    });
  }

  onModuleInit(): void {
    this.unsubscribe = this.publisher.subscribe((event) => this.observe(event));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** The text a scrape gets, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private observe(published: PublishedEvent): void {
    switch (published.event) {
      case 'sync_chats_done': {
        const { mode, durationMs, messagesSynced, messagesInserted } = published.payload;
        this.runEnded(mode, 'done', durationMs);
        this.messagesSynced.inc({ mode }, messagesSynced);
        this.messagesInserted.inc({ mode }, messagesInserted);
        return;
      }
      case 'sync_chats_failed': {
        // The run that failed is the session's latest in this process: it has just ended.
        const run = this.tracker.latest(published.sessionId);
        if (run && run.syncId === published.payload.syncId) this.runEnded(run.mode, run.status, run.durationMs());
        return;
      }
      case 'message':
        this.liveMessages.inc();
        return;
      case 'message_update':
        this.messageUpdates.inc();
        return;
      default:
        return;
    }
  }

  private runEnded(mode: string, outcome: string, durationMs: number): void {
    this.syncRuns.inc({ mode, outcome });
    this.syncDuration.observe({ mode, outcome }, durationMs / 1000);
  }
}
