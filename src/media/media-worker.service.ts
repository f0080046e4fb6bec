import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { APP_CONFIG, AppConfig, MediaConfig } from '../config/app-config';
import { errorText } from '../common/error-text';
import { SessionRegistry } from '../whatsapp/session/session-registry';
import { SyncTracker } from '../whatsapp/sync/sync-tracker';
import { MediaDownloadsService } from './media-downloads.service';
import { MediaRepository } from './media.repository';
import { MediaJob } from './media.types';
import { MediaWakeup } from './media-wakeup';

/** An idle worker looks at the queue this often (rows queued by other instances, retries coming due). */
const POLL_INTERVAL_MS = 1000;
/** After a database error, before the next claim. */
const ERROR_PAUSE_MS = 2000;
/** How long a shutdown waits for the downloads in flight; those still going are given back to the queue. */
const SHUTDOWN_WAIT_MS = 5000;

/**
 * MEDIA_DOWNLOAD_CONCURRENCY workers over the queue in PostgreSQL. Each claims the next due row of a
 * session this process runs, that is `ready` and that no sync is running for (downloads compete
 * with a sync for the same cores and database: they wait for its end), with SKIP LOCKED, so that
 * instances share the queue without waiting on one another; runs it, and claims again; idle, it
 * waits for a wake-up or the next poll. What is pending at a stop is still pending at the next start.
 */
@Injectable()
export class MediaWorker implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(MediaWorker.name);
  private readonly config: MediaConfig;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private readonly inFlight = new Set<MediaJob>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly rows: MediaRepository,
    private readonly downloads: MediaDownloadsService,
    private readonly sessions: SessionRegistry,
    private readonly syncs: SyncTracker,
    private readonly wakeup: MediaWakeup,
  ) {
    this.config = config.media;
  }

  onApplicationBootstrap(): void {
    for (let n = 0; n < this.config.concurrency; n++) this.loops.push(this.loop());
  }

  onModuleDestroy(): void {
    this.stopping = true;
    this.wakeup.wake();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.wakeup.wake();
    const stopped = Promise.all(this.loops);
    const timedOut = await Promise.race([stopped.then(() => false), delay(SHUTDOWN_WAIT_MS, true, { ref: false })]);
    if (!timedOut) return;
    this.logger.warn(`giving ${this.inFlight.size} download(s) in flight back to the queue for the shutdown`);
    await Promise.allSettled([...this.inFlight].map((job) => this.rows.release(job)));
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        if (!(await this.next())) await this.wakeup.wait(POLL_INTERVAL_MS);
      } catch (error) {
        this.logger.error(`media queue: ${errorText(error)}`);
        await delay(ERROR_PAUSE_MS, undefined, { ref: false });
      }
    }
  }

  /** Runs one due download; answers whether there was one. */
  private async next(): Promise<boolean> {
    const ready = new Map<string, NonNullable<ReturnType<SessionRegistry['get']>>>();
    for (const [sessionId, session] of this.sessions.all()) if (session.status === 'ready' && !this.syncs.get(sessionId)) ready.set(sessionId, session);
    const job = await this.rows.claim([...ready.keys()], this.config.leaseMs);
    if (!job) return false;
    const session = ready.get(job.sessionId)!;
    this.inFlight.add(job);
    try {
      await this.downloads.run(job, session.client);
    } finally {
      this.inFlight.delete(job);
    }
    return true;
  }
}
