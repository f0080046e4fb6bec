import { SyncMode, SyncRunEntity, SyncRunStatus, SyncTrigger } from '../../database/entities/sync-run.entity';
import { MessagesWritten } from '../storage/message.repository';
import { EventPublisher } from '../event-publisher';
import { SyncChatsDonePayload, SyncChatsFailedPayload, SyncChatsPayload } from '../events';
import { SyncResult, SyncRunProgress, SyncRunView } from './sync.view';

export type { SyncRunProgress } from './sync.view';

/** What kind of run it is: its mode, what started it, and the one chat of a one-chat sync. */
export interface SyncRunKind {
  mode: SyncMode;
  trigger: SyncTrigger;
  /** Set for `POST .../chats/:chatId/sync`; the run then covers that chat only. */
  chatId?: string;
}

export type EndedStatus = Exclude<SyncRunStatus, 'running'>;

/**
 * One run of this process: its progress, status and view, and the events that report them. The
 * run's row follows it (a few writes a run); while the process lives, this object is the fresher
 * truth, also when the row could not be written because the database was down.
 */
export class SyncRun {
  syncId = '';
  status: SyncRunStatus = 'running';
  error: string | null = null;
  startedAt = new Date();
  finishedAt: Date | null = null;
  readonly progress: SyncRunProgress = { nChats: 0, currentChat: 0, messagesSynced: 0, chatsFailed: 0, chatsSkipped: 0, chatsWithGap: 0, messagesInserted: 0, fetchCalls: 0 };
  /** The one chat's catch-up bound was hit (one-chat runs: the answer's `gap`). */
  private lastGap = false;
  /** Why the last chat that failed failed (one-chat runs: the answer's error). */
  chatError: string | null = null;
  /** The last `sync_chats`, for a socket that joins mid-run. */
  latest: SyncChatsPayload | undefined;
  /** Its `sync_chats_done`, once `complete()`. */
  private summary: SyncChatsDonePayload | undefined;

  constructor(
    readonly sessionId: string,
    readonly limitPerChat: number,
    readonly kind: SyncRunKind,
    private readonly publisher: EventPublisher,
  ) {}

  get mode(): SyncMode {
    return this.kind.mode;
  }

  /** Its row exists: the run has an id. */
  recorded(row: Pick<SyncRunEntity, 'id' | 'startedAt'>): void {
    this.syncId = row.id;
    this.startedAt = row.startedAt;
  }

  /** The chats the run goes through are known (`skipped`: those an incremental run leaves alone). */
  listed(nChats: number, skipped = 0): void {
    this.progress.nChats = nChats;
    this.progress.chatsSkipped = skipped;
    this.report({ nChats, currentChat: 0, messagesSynced: 0 });
  }

  /** `calls` more calls into WhatsApp were made for the run. */
  called(calls: number): void {
    this.progress.fetchCalls += calls;
  }

  /** The first event of the chat at `index`. */
  chatStarted(index: number, chatId: string): void {
    this.progress.currentChat = index + 1;
    this.report({ nChats: this.progress.nChats, currentChat: index + 1, chatId, messagesSynced: 0 });
  }

  /** The second event of a chat whose messages are stored; `gap`: its catch-up bound was hit. */
  chatStored(chatId: string, written: MessagesWritten, gap = false): void {
    this.progress.messagesSynced += written.held;
    this.progress.messagesInserted += written.inserted;
    if (gap) this.progress.chatsWithGap++;
    this.lastGap = gap;
    this.report({ nChats: this.progress.nChats, currentChat: this.progress.currentChat, chatId, messagesSynced: written.held, ...(gap ? { gap } : {}) });
  }

  chatFailed(chatId: string, error: string): void {
    this.progress.chatsFailed++;
    this.chatError = error;
    this.report({ nChats: this.progress.nChats, currentChat: this.progress.currentChat, chatId, messagesSynced: 0, error });
  }

  /**
   * Ends the run `done` and answers its `sync_chats_done`, which `announceDone()` then sends (the
   * outbox records it first, with the run's row).
   */
  complete(): SyncChatsDonePayload {
    this.end('done', null);
    this.summary = {
      sessionId: this.sessionId,
      syncId: this.syncId,
      mode: this.mode,
      chatsProcessed: this.progress.nChats,
      chatsFailed: this.progress.chatsFailed,
      chatsSkipped: this.progress.chatsSkipped,
      chatsWithGap: this.progress.chatsWithGap,
      messagesSynced: this.progress.messagesSynced,
      messagesInserted: this.progress.messagesInserted,
      durationMs: this.durationMs(),
    };
    return this.summary;
  }

  /** Sends the `sync_chats_done` of `complete()`; returns the HTTP answer. */
  announceDone(): SyncResult {
    if (!this.summary) throw new Error('announceDone() before complete()');
    this.publisher.publish(this.sessionId, 'sync_chats_done', this.summary);
    const { sessionId: _sessionId, ...summary } = this.summary;
    return { success: true, message: 'Synchronization completed successfully', ...summary };
  }

  /** Whether the last chat stored hit its catch-up bound: a one-chat run's `gap`. */
  get gap(): boolean {
    return this.lastGap;
  }

  /** Ends the run `failed` or `interrupted`; `announceFailure()` then sends its `sync_chats_failed`. */
  failed(status: Exclude<EndedStatus, 'done'>, error: string): void {
    this.end(status, error);
  }

  /** The `sync_chats_failed` of a run that ended `failed` or `interrupted`. */
  failurePayload(): SyncChatsFailedPayload {
    return { sessionId: this.sessionId, syncId: this.syncId, error: this.error ?? '' };
  }

  announceFailure(): void {
    this.publisher.publish(this.sessionId, 'sync_chats_failed', this.failurePayload());
  }

  durationMs(): number {
    return (this.finishedAt ?? new Date()).getTime() - this.startedAt.getTime();
  }

  view(): SyncRunView {
    return {
      syncId: this.syncId,
      status: this.status,
      mode: this.mode,
      trigger: this.kind.trigger,
      ...(this.kind.chatId !== undefined ? { chatId: this.kind.chatId } : {}),
      limitPerChat: this.limitPerChat,
      ...this.progress,
      startedAt: this.startedAt.toISOString(),
      finishedAt: this.finishedAt?.toISOString() ?? null,
      ...(this.error ? { error: this.error } : {}),
    };
  }

  private end(status: EndedStatus, error: string | null): void {
    this.status = status;
    this.error = error;
    this.finishedAt = new Date();
  }

  private report(step: Omit<SyncChatsPayload, 'sessionId'>): void {
    this.latest = { sessionId: this.sessionId, ...step };
    this.publisher.publish(this.sessionId, 'sync_chats', this.latest);
  }
}
