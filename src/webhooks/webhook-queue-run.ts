import type { DeliveryRow, DeliveryStatus, SettleAnswer, SettleRequest } from './webhook-delivery.repository';
import type { SendOutcome } from './webhook-sender';

/** What a queue's run needs from the worker. */
export interface QueueRunDeps {
  /** POSTs one delivery. */
  post(row: DeliveryRow): Promise<SendOutcome>;
  /** SETTLE_SQL (webhook-delivery.repository.ts) for this queue. */
  settle(request: SettleRequest): Promise<SettleAnswer>;
  /** The back-off before the attempt after `row`'s, should this one fail. */
  retryMs(row: DeliveryRow): number;
  /** The service is stopping: nothing more is sent. */
  stopped(): boolean;
  /** An attempt recorded: the delivery's status now (`null`: it was no longer this worker's). */
  recorded(row: DeliveryRow, sent: SendOutcome, status: DeliveryStatus | null): void;
  /** A statement failed; `givingUp`: the run ends, the leases it holds run out. */
  settleFailed(error: unknown, givingUp: boolean): void;
  /**
   * Purges of the session in this process: `running`, resolved when the one under way has ended
   * (`null`: none), and when the last one ended (local clock; -Infinity: never).
   */
  purges(): { running: Promise<void> | null; endedAt: number };
  /**
   * The run has nothing more to send: answers, once rows may have been committed to the queue since
   * its last statement was sent, whether it goes on (it then leases them); `false` ends the run.
   */
  linger(): Promise<boolean>;
  /** Local clock, milliseconds. */
  now(): number;
  /** Waits `ms` (between two tries of a failed statement). */
  sleep(ms: number): Promise<void>;
}

export interface QueueRunOptions {
  /** How many deliveries of the queue a run holds leased ahead of the one being sent. */
  window: number;
  /** A lease's length beyond the attempt's timeout (LEASE_MARGIN_MS). */
  leaseMarginMs: number;
  /** How long a statement's listing of a held delivery lets it leave (see the class). */
  confirmMs: number;
}

/** How many times in a row a statement may fail before the run ends. */
const SETTLE_TRIES = 3;
/** Between two tries of a failed statement: this, times the failures so far. */
const SETTLE_RETRY_MS = 100;

interface Held {
  id: string;
  /** `null`: in the run, but not leased by this worker (another statement changed it meanwhile). */
  row: DeliveryRow | null;
  /** When the statement that leased or renewed it was sent (local clock): the lease ends no sooner than that plus its length. */
  leasedAt: number;
  /** When the last statement that listed it in the queue's run was sent (local clock). */
  confirmedAt: number;
}

/**
 * One (session, URL) queue's deliveries, sent one at a time in order, with the database's work
 * beside the POSTs instead of between them:
 * - the next delivery leaves as soon as the one before it was answered 2xx, without waiting for
 *   that answer to be recorded: the run holds up to `window` deliveries leased ahead (leased in
 *   `seq` order, an attempt counted each, by the same statement that records);
 * - the answers are recorded by one statement at a time, each recording every attempt that ended
 *   since the last one and leasing what the queue has next; so under load one statement records
 *   several deliveries, and it runs while the next POST is under way;
 * - an attempt that is not delivered stops the run until it is recorded: nothing behind it leaves
 *   before that (its back-off then ends the run, unless it has failed for good and left the queue);
 * - once everything is recorded and nothing is held, the run waits (`linger`) for rows committed to
 *   its queue, and leases them, instead of ending: a busy queue's next rows do not wait for the
 *   worker's next look.
 *
 * Order: the deliveries leave in `seq` order and each only after the one before it was
 * acknowledged; the recording keeps that order too (one statement at a time, each with every
 * acknowledged attempt not yet recorded). A delivery acknowledged whose record never commits (the
 * service killed, three statements failed in a row) is sent again once its lease runs out, and so
 * are the acknowledged ones after it: the receiver then sees those ids again, in the same order.
 *
 * Leases: a delivery leaves only while its lease still covers the attempt (sent within the margin
 * of the statement that leased or renewed it, less a second); older ones are renewed by the next
 * statement first. Deliveries held and not sent when the run ends (a failure, a shutdown) are given
 * back, their counted attempt taken back.
 *
 * A held delivery leaves only on the word of a recent statement (one that listed it in the run,
 * sent within `confirmMs`, or after the run's last attempt ended, and in any case after the last
 * purge of its session in this process ended), and none leaves while such a purge runs: a delivery
 * a purge deleted is not sent from what the run remembers. A slow receiver therefore waits for the
 * statement that follows each answer, as one statement per delivery did; a fast one finds its next
 * deliveries confirmed by the statement that ran beside the last POST.
 */
export class WebhookQueueRun {
  private window: Held[];
  /** Attempts that ended and are not recorded yet, in the order they were made. */
  private readonly unrecorded: Array<{ row: DeliveryRow; sent: SendOutcome; retryMs: number }> = [];
  /** An attempt that was not delivered waits for its record: nothing more leaves until then. */
  private blocked = false;
  private sending: string | null = null;
  /** Ids sent since the statement in flight was sent: its answer may still list them as held. */
  private sentDuringSettle = new Set<string>();
  private settling: Promise<void> | null = null;
  /** Statements failed in a row. */
  private failures = 0;
  /** A statement failed: the run sends nothing more, gives back what it holds, and ends once its outcomes are recorded. */
  private ending = false;
  /** When the last attempt of the run ended (local clock). */
  private answeredAt = -Infinity;

  constructor(
    private readonly deps: QueueRunDeps,
    private readonly options: QueueRunOptions,
    first: DeliveryRow,
    firstLeasedAt: number,
  ) {
    this.window = [{ id: first.id, row: first, leasedAt: firstLeasedAt, confirmedAt: firstLeasedAt }];
  }

  /** A delivery may start while its lease covers the whole attempt: within the margin, less a second of slack. */
  private get freshMs(): number {
    return this.options.leaseMarginMs - 1000;
  }

  /** Runs until the queue has nothing more this worker may send now; every outcome recorded, or given up. */
  async run(): Promise<void> {
    for (;;) {
      const head = this.window[0];
      const purges = this.deps.purges();
      if (purges.running && !this.settling && this.unrecorded.length === 0) {
        await purges.running;
        continue;
      }
      const now = this.deps.now();
      const may = !purges.running && !this.blocked && !this.ending && !this.deps.stopped();
      if (may && head?.row && now - head.leasedAt < this.freshMs && this.confirmed(head, now, purges.endedAt)) {
        this.window.shift();
        this.sentDuringSettle.add(head.id);
        this.sending = head.id;
        // What ended before is recorded while this POST is under way.
        if (!this.settling && this.unrecorded.length > 0) this.settle();
        const sent = await this.deps.post(head.row);
        this.sending = null;
        this.answeredAt = this.deps.now();
        this.unrecorded.push({ row: head.row, sent, retryMs: this.deps.retryMs(head.row) });
        if (!sent.delivered) this.blocked = true;
        continue;
      }
      if (this.settling) {
        await this.settling;
        continue;
      }
      if (this.failures >= SETTLE_TRIES) return;
      if (this.unrecorded.length === 0 && this.window.length === 0) {
        // Everything recorded, nothing held: wait for the queue's next rows, or end.
        if (this.ending || this.deps.stopped() || !(await this.deps.linger())) return;
      } else if (this.failures > 0) await this.deps.sleep(SETTLE_RETRY_MS * this.failures);
      this.settle();
    }
  }

  /**
   * Whether the run's last word on `held` lets it leave now: a statement that listed it, sent after
   * the last purge of the session ended, and either within `confirmMs` or after the run's last
   * attempt ended (as the statement that records an attempt and leases the next one is).
   */
  private confirmed(held: Held, now: number, purgeEndedAt: number): boolean {
    return held.confirmedAt > purgeEndedAt && (now - held.confirmedAt <= this.options.confirmMs || held.confirmedAt >= this.answeredAt);
  }

  /** Starts the statement that records what ended and leases what comes next (see SETTLE_SQL). */
  private settle(): void {
    const outcomes = this.unrecorded.splice(0);
    const held = this.window.filter((h): h is Held & { row: DeliveryRow } => h.row !== null);
    const sentAt = this.deps.now();
    // After a failed statement the run ends: it gives back what it holds and leases nothing more.
    const want = this.deps.stopped() || this.ending ? 0 : this.options.window;
    const renew = held.some((h) => sentAt - h.leasedAt > this.freshMs / 2);
    this.sentDuringSettle = new Set();
    const request: SettleRequest = { outcomes, held: held.map((h) => h.row), sending: this.sending, want, renew };
    this.settling = this.deps
      .settle(request)
      .then(
        (answer) => {
          this.failures = 0;
          for (const o of outcomes) this.deps.recorded(o.row, o.sent, answer.finished.get(o.row.id) ?? null);
          if (outcomes.some((o) => !o.sent.delivered)) this.blocked = false;
          const byId = new Map(held.map((h) => [h.id, h]));
          const next: Held[] = [];
          for (const { id, leased } of answer.run) {
            // Sent while the statement ran: no longer held.
            if (this.sentDuringSettle.has(id)) continue;
            const had = byId.get(id);
            if (leased) next.push({ id, row: leased, leasedAt: sentAt, confirmedAt: sentAt });
            else if (had) next.push({ id, row: had.row, leasedAt: renew ? sentAt : had.leasedAt, confirmedAt: sentAt });
            // Another statement took it meanwhile: nothing after it leaves; the next statement finds out.
            else next.push({ id, row: null, leasedAt: 0, confirmedAt: 0 });
          }
          // Held rows the answer does not list were given back by the statement.
          this.window = next;
        },
        (error: unknown) => {
          this.failures++;
          this.ending = true;
          this.unrecorded.unshift(...outcomes);
          this.deps.settleFailed(error, this.failures >= SETTLE_TRIES);
        },
      )
      .finally(() => {
        this.settling = null;
      });
  }
}
