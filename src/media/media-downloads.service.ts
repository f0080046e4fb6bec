import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig, MediaConfig } from '../config/app-config';
import { WhatsappClient } from '../whatsapp/client/whatsapp-client.port';
import { EventPublisher } from '../whatsapp/event-publisher';
import { WhatsappStorageService } from '../whatsapp/whatsapp-storage.service';
import { attemptDownload } from './media-attempt';
import { MediaRepository, MediaWrite } from './media.repository';
import { MediaJob, MediaOutcome } from './media.types';
import { MEDIA_STORE, MediaStore } from './stores/media-store';

/** The longest back-off between two attempts. */
const MAX_RETRY_DELAY_MS = 10 * 60_000;

/**
 * Runs a claimed download to its end: the attempt (renewing the lease meanwhile), then its outcome
 * written in the session's write order, and, when the status changed, `message_update` with the
 * message's whole view (to the outbox in the same transaction, then to the sockets).
 */
@Injectable()
export class MediaDownloadsService {
  private readonly logger = new Logger(MediaDownloadsService.name);
  private readonly config: MediaConfig;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly rows: MediaRepository,
    @Inject(MEDIA_STORE) private readonly store: MediaStore,
    private readonly storage: WhatsappStorageService,
    private readonly publisher: EventPublisher,
  ) {
    this.config = config.media;
  }

  /** Answers the status written, or `null` when another attempt took the lease over meanwhile. */
  async run(job: MediaJob, client: WhatsappClient): Promise<MediaWrite | null> {
    const renewal = setInterval(() => void this.rows.renew(job, this.config.leaseMs).catch(() => undefined), Math.max(250, Math.floor(this.config.leaseMs / 3)));
    let outcome: MediaOutcome;
    try {
      outcome = await attemptDownload(job, client, this.store, this.config.maxBytes);
    } finally {
      clearInterval(renewal);
    }
    const write = this.toWrite(job, outcome);
    if (write.status !== 'stored') this.logger.warn(`media of ${job.messageId}: ${write.status} (attempt ${job.attempts}): ${write.error}`, { sessionId: job.sessionId });
    let lost = false;
    const { message } = await this.storage.applyMediaChange(job.sessionId, job.messageId, async (manager) => {
      const finished = await this.rows.finish(manager, job, write);
      lost = finished === null;
      return finished?.changed === true;
    });
    if (message) this.publisher.publish(job.sessionId, 'message_update', { sessionId: job.sessionId, message });
    return lost ? null : write;
  }

  /** A failure that may pass goes back to the queue with back-off, until the attempts are used up. */
  private toWrite(job: MediaJob, outcome: MediaOutcome): MediaWrite {
    switch (outcome.status) {
      case 'stored':
        return outcome;
      case 'too_large':
        return { status: 'too_large', size: outcome.size, error: `${outcome.size} bytes is more than MEDIA_MAX_BYTES (${this.config.maxBytes})` };
      case 'expired':
        return { status: 'expired', error: 'WhatsApp no longer has this media' };
      case 'retry': {
        if (job.attempts >= this.config.maxAttempts) return { status: 'failed', error: `${outcome.error} (attempt ${job.attempts} of ${this.config.maxAttempts})` };
        const delayMs = Math.min(this.config.retryBaseMs * 2 ** (job.attempts - 1), MAX_RETRY_DELAY_MS);
        return { status: 'pending', error: `${outcome.error} (attempt ${job.attempts} of ${this.config.maxAttempts}; next in ${delayMs} ms)`, delayMs };
      }
    }
  }
}
