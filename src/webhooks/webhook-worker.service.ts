import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { setMaxListeners } from 'node:events';
import { Counter, Gauge } from 'prom-client';
import { APP_CONFIG, AppConfig, WebhookDeliveryConfig } from '../config/app-config';
import { errorText } from '../common/error-text';
import { MetricsService } from '../metrics/metrics.service';
import { WebhookOutbox } from './webhook-outbox';
import { DeliveryRow, DeliveryStatus, WebhookDeliveryRepository, queueKey } from './webhook-delivery.repository';
import { WebhookQueueRun } from './webhook-queue-run';
import { SendOutcome, sendWebhook, webhookSignature } from './webhook-sender';

/** Queue runs sending at once (POSTs in flight), each to a different (session, URL); runs waiting for rows do not count. */
const CONCURRENCY = 16;
/**
 * The longest the worker sleeps with nothing known to do: a delivery another instance wrote and
 * could not send (it died) is taken at the latest then.
 */
const IDLE_POLL_MS = 60_000;
/** The longest back-off between two attempts. */
const MAX_RETRY_DELAY_MS = 5 * 60_000;
/** A lease outlives the attempt's timeout by this much before another worker may take the row. */
const LEASE_MARGIN_MS = 5000;
/** Deliveries of one queue a run holds leased ahead of the one being sent (see WebhookQueueRun). */
const RUN_WINDOW = 32;
/**
 * How long a statement's word that a held delivery is still in its queue lets the delivery leave
 * (see WebhookQueueRun): beyond it, or once a purge of its session has ended, a newer statement must say so.
 */
const CONFIRM_MS = 50;
/** How long a queue's run that has sent everything waits for the queue's next rows before it ends. */
const LINGER_MS = 1000;
/** The shortest time between two looks for due deliveries. */
const MIN_LOOK_GAP_MS = 20;
/** How long a shutdown lets deliveries in flight finish before it cuts them short. */
const SHUTDOWN_GRACE_MS = 3000;

/** A queue's run as the worker tells it of its queue's commits. */
interface RunHandle {
  /** Rows were committed to the queue since the run's last statement was sent. */
  poked: boolean;
  /** Another run of the queue started here: this one ends instead of waiting. */
  retired: boolean;
  /** Ends the run's wait for rows, when it waits. */
  wakeUp: (() => void) | null;
}

/** The delay before attempt `attempts + 1`: the base, doubled per attempt made, capped. */
export function retryDelayMs(config: Pick<WebhookDeliveryConfig, 'retryBaseMs'>, attempts: number): number {
  return Math.min(config.retryBaseMs * 2 ** Math.max(0, attempts - 1), MAX_RETRY_DELAY_MS);
}

/**
 * Sends what the outbox holds: takes due deliveries (see WebhookDeliveryRepository.claim), and runs
 * each one's queue (WebhookQueueRun): POSTs signed, one at a time per queue, every attempt recorded.
 * A commit of outbox rows goes to the run of their queue when there is one here (it leases them),
 * else wakes the worker's look; so do a run's end and the time the first pending delivery becomes
 * due; with nothing to do it looks once a minute (rows another instance wrote and could not send).
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookWorker.name);
  private readonly config: WebhookDeliveryConfig;
  private readonly inFlight = new Set<Promise<void>>();
  private resume: (() => void) | undefined;
  private wanted = false;
  private lastLook = 0;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly outcomes: Counter<'outcome'>;
  /** The runs under way, by queue (queueKey): told when rows of their queue are committed. */
  private readonly runs = new Map<string, Set<RunHandle>>();
  /** Runs waiting for their queue's next rows: they send nothing, and take no slot of CONCURRENCY. */
  private lingering = 0;
  /** The last look left due deliveries for want of a slot. */
  private starved = false;
  /** Purges of sessions in this process: those under way (a count and a promise resolved at the end), when the last ended. */
  private readonly purges = new Map<string, { running: number; gate: Promise<void>; open: () => void; endedAt: number }>();
  /** Aborted at shutdown: attempts still in flight then are cut short. */
  private readonly shutdown = new AbortController();

  constructor(
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly outbox: WebhookOutbox,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'webhookDelivery'>,
    metrics: MetricsService,
  ) {
    this.config = config.webhookDelivery;
    this.outcomes = new Counter({
      name: 'wa_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by outcome: delivered, retrying (failed, tried again later), failed (attempts used up).',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
    const repository = this.deliveries;
    const oldest = new Gauge({ name: 'wa_webhook_outbox_oldest_pending_seconds', help: 'Age of the oldest pending webhook delivery (0: none).', registers: [metrics.registry] });
    new Gauge({
      name: 'wa_webhook_outbox_pending',
      help: 'Webhook deliveries not yet delivered nor failed.',
      registers: [metrics.registry],
      // One indexed count a scrape; when the database does not answer, the last values stay.
      async collect() {
        const backlog = await repository.backlog().catch(() => undefined);
        if (!backlog) return;
        this.set(backlog.pending);
        oldest.set(backlog.oldestSeconds);
      },
    });
  }

  onApplicationBootstrap(): void {
    // Every POST in flight listens to the shutdown signal.
    setMaxListeners(CONCURRENCY + 1, this.shutdown.signal);
    this.outbox.onCommitted((queues) => this.committed(queues));
    this.outbox.onPurge((sessionId) => this.purgeStarted(sessionId));
    this.loop = this.run();
  }

  /**
   * Before the database closes: stops taking deliveries, gives those in flight SHUTDOWN_GRACE_MS to
   * end, then cuts the rest short (their attempts do not count, and they are due at once for the
   * next start or another instance), and records every outcome.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.outbox.onCommitted(() => undefined);
    this.wake();
    for (const handles of this.runs.values()) for (const handle of handles) handle.wakeUp?.();
    await this.loop;
    const ended = Promise.allSettled([...this.inFlight]);
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise<void>((resolve) => (grace = setTimeout(resolve, SHUTDOWN_GRACE_MS)))]);
    clearTimeout(grace);
    this.shutdown.abort();
    await ended;
  }

  /** Look for due deliveries now (a retry was asked for, an event was published). */
  wake(): void {
    this.wanted = true;
    this.resume?.();
  }

  /**
   * Rows were committed to `queues`: a run of the queue here takes them (it leases them with its next
   * statement, or, waiting, with one now); the other queues need a look.
   */
  private committed(queues: ReadonlySet<string>): void {
    let look = false;
    for (const key of queues) {
      const handles = this.runs.get(key);
      if (!handles?.size) look = true;
      else
        for (const handle of handles) {
          handle.poked = true;
          handle.wakeUp?.();
        }
    }
    if (look) this.wake();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      // Commits wake the worker up to hundreds of times a second; one look per gap serves them all
      // (a queue with a run here needs none: the run takes its rows, see committed()).
      const gap = this.lastLook + MIN_LOOK_GAP_MS - Date.now();
      if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
      this.lastLook = Date.now();
      this.wanted = false;
      const free = CONCURRENCY - (this.inFlight.size - this.lingering);
      let claimed: DeliveryRow[] = [];
      let sleepMs = IDLE_POLL_MS;
      const claimedAt = Date.now();
      if (free > 0) {
        try {
          claimed = await this.deliveries.claim(free, this.config.timeoutMs + LEASE_MARGIN_MS);
          // Nothing more to take now: sleep until the first pending one may be taken.
          if (claimed.length < free) {
            const next = await this.deliveries.nextChance();
            if (next) sleepMs = Math.min(IDLE_POLL_MS, Math.max(0, next.getTime() - Date.now()) + 10);
          }
        } catch (error) {
          this.logger.warn(`webhook deliveries not read: ${errorText(error)}`);
          sleepMs = Math.min(IDLE_POLL_MS, this.config.retryBaseMs);
        }
      }
      for (const delivery of claimed) this.track(this.deliver(delivery, claimedAt));
      this.starved = free <= 0;
      // A full batch: there may be more at once. Otherwise wait for a delivery to end, an event,
      // or the first pending delivery's time.
      if ((claimed.length === free && free > 0) || this.wanted || this.stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sleepMs);
        this.resume = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.resume = undefined;
    }
  }

  private track(delivery: Promise<void>): void {
    this.inFlight.add(delivery);
    void delivery.finally(() => {
      this.inFlight.delete(delivery);
      // Its queue's next delivery may go now.
      this.wake();
    });
  }

  /** Sends `first`, then its queue's next deliveries as long as they may go at once (see WebhookQueueRun). */
  private async deliver(first: DeliveryRow, leasedAt: number): Promise<void> {
    const leaseMs = this.config.timeoutMs + LEASE_MARGIN_MS;
    const log = { sessionId: first.session_id };
    const key = queueKey(first.session_id, first.url);
    let handles = this.runs.get(key);
    if (!handles) this.runs.set(key, (handles = new Set()));
    // A run of the queue that waits for rows has been overtaken by the look that found this one: it ends.
    for (const other of handles) {
      other.retired = true;
      other.wakeUp?.();
    }
    const handle: RunHandle = { poked: false, retired: false, wakeUp: null };
    handles.add(handle);
    const run = new WebhookQueueRun(
      {
        post: (delivery) => this.post(delivery),
        settle: (request) => {
          handle.poked = false;
          return this.deliveries.settle(first, request, this.config.maxAttempts, leaseMs);
        },
        retryMs: (delivery) => retryDelayMs(this.config, delivery.attempts),
        stopped: () => this.stopped,
        purges: () => {
          const purge = this.purges.get(first.session_id);
          return { running: purge && purge.running > 0 ? purge.gate : null, endedAt: purge?.endedAt ?? -Infinity };
        },
        recorded: (delivery, sent, status) => this.recorded(delivery, sent, status),
        // The outcomes not recorded: their leases run out and those deliveries are attempted again.
        settleFailed: (error, givingUp) => this.logger.warn(`webhook deliveries of ${first.url.replace(/[?#].*$/, '')}: attempts not recorded (${errorText(error)})${givingUp ? ', sent again once their leases run out' : ', trying again'}`, log),
        linger: () => this.linger(handle),
        now: () => Date.now(),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      },
      { window: RUN_WINDOW, leaseMarginMs: LEASE_MARGIN_MS, confirmMs: CONFIRM_MS },
      first,
      leasedAt,
    );
    try {
      await run.run();
    } finally {
      handles.delete(handle);
      if (handles.size === 0 && this.runs.get(key) === handles) this.runs.delete(key);
    }
  }

  /**
   * A run with nothing to send waits up to LINGER_MS for rows committed to its queue; it goes on
   * when some were (since its last statement) and a slot of CONCURRENCY is free, else it ends.
   */
  private async linger(handle: RunHandle): Promise<boolean> {
    if (!handle.poked && !handle.retired && !this.stopped) {
      this.lingering++;
      // Its slot may serve a queue the last look left waiting.
      if (this.starved) this.wake();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => handle.wakeUp?.(), LINGER_MS);
        handle.wakeUp = () => {
          clearTimeout(timer);
          handle.wakeUp = null;
          resolve();
        };
      });
      this.lingering--;
    }
    return handle.poked && !handle.retired && !this.stopped && this.inFlight.size - this.lingering <= CONCURRENCY;
  }

  /**
   * A purge of `sessionId` starts: the session's runs send nothing until it ends (the answer), and
   * then only on the word of a statement sent after that. Entries of purges that ended longer ago
   * than any lease lasts are dropped (no run holds a word that old).
   */
  private purgeStarted(sessionId: string): () => void {
    const oldest = Date.now() - (this.config.timeoutMs + LEASE_MARGIN_MS) * 2;
    for (const [id, purge] of this.purges) if (purge.running === 0 && purge.endedAt < oldest) this.purges.delete(id);
    let purge = this.purges.get(sessionId);
    if (!purge || purge.running === 0) {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      purge = { running: 0, gate, open, endedAt: purge?.endedAt ?? -Infinity };
      this.purges.set(sessionId, purge);
    }
    purge.running++;
    const current = purge;
    return () => {
      current.endedAt = Date.now();
      if (--current.running === 0) current.open();
    };
  }

  /** One POST of `delivery`, signed. */
  private post(delivery: DeliveryRow): Promise<SendOutcome> {
    const body = JSON.stringify({ id: delivery.id, event: delivery.event, sessionId: delivery.session_id, createdAt: delivery.created_at.toISOString(), payload: delivery.payload });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = { 'x-webhook-id': delivery.id, 'x-webhook-timestamp': timestamp };
    if (delivery.secret) headers['x-webhook-signature'] = webhookSignature(delivery.secret, timestamp, body);
    return sendWebhook(delivery.url, body, headers, { ...this.config, signal: this.shutdown.signal });
  }

  /** An attempt's record: counted and logged by its outcome. */
  private recorded(delivery: DeliveryRow, sent: SendOutcome, status: DeliveryStatus | null): void {
    const log = { sessionId: delivery.session_id };
    if (status === 'delivered') this.outcomes.inc({ outcome: 'delivered' });
    else if (status === null) return;
    else if (sent.interrupted) this.logger.log(`webhook ${delivery.event} ${delivery.id}: cut short by the shutdown, due again at the next start`, log);
    else if (status === 'pending') {
      this.outcomes.inc({ outcome: 'retrying' });
      this.logger.warn(`webhook ${delivery.event} ${delivery.id}: attempt ${delivery.attempts} failed (${sent.error}), retrying`, log);
    } else if (status === 'failed') {
      this.outcomes.inc({ outcome: 'failed' });
      this.logger.error(`webhook ${delivery.event} ${delivery.id}: failed after ${delivery.attempts} attempts (${sent.error})`, log);
    }
  }
}
