import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig, MediaDownload } from '../config/app-config';
import { MediaRepository } from './media.repository';
import { MediaView } from './media.types';
import { MediaWakeup } from './media-wakeup';
import { MEDIA_STORE, MediaStore } from './stores/media-store';

/**
 * What the message storage needs of media: queueing the media of stored messages as MEDIA_DOWNLOAD
 * says, in the caller's transaction; each message's media for its view; a purge's leftovers.
 */
@Injectable()
export class MediaQueue {
  private readonly download: MediaDownload;

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

  /** Messages a sync stored (MEDIA_DOWNLOAD=all only). */
  queueSynced(manager: EntityManager, sessionId: string, messageIds: readonly string[]): Promise<number> {
    return this.download === 'all' ? this.rows.enqueue(manager, sessionId, messageIds) : Promise.resolve(0);
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
    return this.rows.deleteSession(manager, sessionId);
  }

  /**
   * After the purge committed: those objects, each checked again (a download of the same content may
   * have stored a row meanwhile).
   */
  async forgetObjects(sha256s: readonly string[]): Promise<void> {
    for (const sha256 of sha256s) if (!(await this.rows.isReferenced(sha256))) await this.store.delete(sha256);
  }
}
