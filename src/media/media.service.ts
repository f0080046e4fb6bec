import { ConflictException, Inject, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { MessageView } from '../whatsapp/chats/chat.view';
import { SessionService } from '../whatsapp/session/session.service';
import { WhatsappStorageService } from '../whatsapp/whatsapp-storage.service';
import { StoredFile } from './http/send-media';
import { MediaDownloadsService } from './media-downloads.service';
import { MediaRepository } from './media.repository';
import { MediaView } from './media.types';
import { ByteRange, MEDIA_STORE, MediaObjectMissingError, MediaStore } from './stores/media-store';

/** The media route's rules: which message, whether its media is stored, a download on request. */
@Injectable()
export class MediaService {
  private readonly leaseMs: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly sessions: SessionService,
    private readonly storage: WhatsappStorageService,
    private readonly rows: MediaRepository,
    private readonly downloads: MediaDownloadsService,
    @Inject(MEDIA_STORE) private readonly store: MediaStore,
  ) {
    this.leaseMs = config.media.leaseMs;
  }

  /** The stored file of a message: 404 for an unknown session, message, chat or no media; 409 when not `stored`. */
  async storedFile(sessionId: string, chatId: string, messageId: string): Promise<StoredFile> {
    const message = await this.messageWithMedia(sessionId, chatId, messageId);
    const media = message.media;
    if (!media) throw new ConflictException(`Media of message ${messageId} was not downloaded (none queued: see MEDIA_DOWNLOAD); POST to download it`);
    if (media.status !== 'stored' || media.sha256 === null || media.size === null) {
      throw new ConflictException(`Media of message ${messageId} is not stored (status: ${media.status})`);
    }
    return { sha256: media.sha256, size: media.size, mimetype: media.mimetype, filename: media.filename };
  }

  /** The bytes of a stored file: 503 when the store does not answer, 404 when it lost the object. */
  async open(messageId: string, file: StoredFile, range?: ByteRange): Promise<Readable> {
    try {
      return await this.store.read(file.sha256, range);
    } catch (error) {
      if (error instanceof MediaObjectMissingError) throw new NotFoundException(`Media of message ${messageId} is stored, but its object is missing from the ${this.store.kind} store`);
      throw new ServiceUnavailableException(`The ${this.store.kind} media store is unavailable; try again later`);
    }
  }

  /**
   * Downloads the media now (again, when it was stored), whatever MEDIA_DOWNLOAD says, and answers
   * the outcome: 404 as for GET, 409 when the session is not ready (naming its status).
   */
  async downloadNow(sessionId: string, chatId: string, messageId: string): Promise<MediaView> {
    await this.messageWithMedia(sessionId, chatId, messageId);
    const client = await this.sessions.requireReady(sessionId);
    const job = await this.rows.takeNow(sessionId, messageId, this.leaseMs);
    if (!job) throw new NotFoundException(`Message ${messageId} has no media`);
    await this.downloads.run(job, client);
    const message = await this.storage.messageView(sessionId, messageId);
    if (!message?.media) throw new NotFoundException(`Message ${messageId} not found in session ${sessionId}`);
    return message.media;
  }

  private async messageWithMedia(sessionId: string, chatId: string, messageId: string): Promise<MessageView> {
    await this.sessions.assertKnown(sessionId);
    const message = await this.storage.messageView(sessionId, messageId);
    // A message of another chat is as unknown here as one of another session: nothing tells it exists.
    if (!message || message.chatId !== chatId) throw new NotFoundException(`Message ${messageId} not found in chat ${chatId} of session ${sessionId}`);
    if (!message.hasMedia) throw new NotFoundException(`Message ${messageId} has no media`);
    return message;
  }
}
