import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import type { EntityManager } from 'typeorm';
import { errorText } from '../common/error-text';
import { APP_CONFIG, AppConfig, MediaDownload } from '../config/app-config';
import { MediaRepository } from './media.repository';
import { MediaView } from './media.types';
import { MediaWakeup } from './media-wakeup';
import { MEDIA_STORE, MediaStore } from './stores/media-store';

/** How long the media of synced chats gathers before the statement that queues it. */
const SYNCED_FLUSH_DELAY_MS = 250;

/**
 * What the message storage needs of media: queueing the media of stored messages as MEDIA_DOWNLOAD
 * says, in the caller's transaction; each message's media for its view; a purge's leftovers.
 */
@Injectable()
export class MediaQueue implements BeforeApplicationShutdown {
  private readonly logger = new Logger(MediaQueue.name);
  private readonly download: MediaDownload;
  /** Message ids a sync stored with media, per session, waiting for the statement that queues them. */
  private readonly synced = new Map<string, string[]>();
  private flushing: Promise<void> | undefined;

  constructor(
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'media'>,
    private readonly rows: MediaRepository,
    private readonly wakeup: MediaWakeup,
    @Inject(MEDIA_STORE) private readonly store: MediaStore,
  ) {
    this.download = config.media.download;
  }

  /** Messages stored from live traffic (MEDIA_DOWNLOAD `live` or `all`); answers how many were queued. */
  queueLive(manager: EntityManager, sessionId: string, messageIds: readonly string[]): Promise<number> {
    return this.download === 'off' ? Promise.resolve(0) : this.rows.enqueue(manager, sessionId, messageIds);
  }

  /**
   * Messages a sync stored, once committed (MEDIA_DOWNLOAD=all only): queued in the background, many
   * chats' in one statement, so that the sync does not wait for it. A process that dies before the
   * statement leaves them unqueued until a sync stores them again (or a POST).
   */
  queueSynced(sessionId: string, messageIds: readonly string[]): void {
    if (this.download !== 'all' || messageIds.length === 0) return;
    const waiting = this.synced.get(sessionId);
    if (waiting) waiting.push(...messageIds);
    else this.synced.set(sessionId, [...messageIds]);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      // Ids that came after the flush's last look.
      if (this.synced.size > 0) this.scheduleFlush();
    });
  }

  /** What a shutdown owes the queue: the ids still waiting are queued while the database is open. */
  async beforeApplicationShutdown(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    // The chats written meanwhile join the statement: a few statements a run, not one a chat.
    await delay(SYNCED_FLUSH_DELAY_MS, undefined, { ref: false });
    // What came meanwhile: what comes during these statements waits for the next flush (scheduleFlush).
    const batch = [...this.synced];
    this.synced.clear();
    for (const [sessionId, ids] of batch) {
      try {
        if ((await this.rows.enqueue(this.rows.manager, sessionId, ids)) > 0) this.wake();
      } catch (error) {
        this.logger.error(`media of ${ids.length} synced message(s) not queued: ${errorText(error)}`, { sessionId });
      }
    }
  }

  /** Call once what was queued is committed: idle workers start on it at once. */
  wake(): void {
    this.wakeup.wake();
  }

  viewsOf(sessionId: string, messageIds: readonly string[], manager?: EntityManager): Promise<Map<string, MediaView>> {
    return this.rows.viewsOf(sessionId, messageIds, manager);
  }

  /** A purge, in its transaction: the session's rows; answers the objects no other session refers to. */
  forgetSession(manager: EntityManager, sessionId: string): Promise<string[]> {
    this.synced.delete(sessionId);
    return this.rows.deleteSession(manager, sessionId);
  }

  /**
   * After the purge committed: those objects, each checked again (a download of the same content may
   * have stored a row meanwhile). A store that fails leaves the object behind, logged.
   */
  async forgetObjects(sha256s: readonly string[]): Promise<void> {
    for (const sha256 of sha256s) {
      try {
        if (!(await this.rows.isReferenced(sha256))) await this.store.delete(sha256);
      } catch (error) {
        // The purge itself is done: an object left behind costs space, nothing else.
        this.logger.warn(`media object ${sha256} not deleted from the ${this.store.kind} store: ${errorText(error)}`);
      }
    }
  }
}
