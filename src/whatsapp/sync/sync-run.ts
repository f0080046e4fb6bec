import { SyncRunEntity, SyncRunStatus } from '../../database/entities/sync-run.entity';
import { EventPublisher } from '../event-publisher';
import { SyncChatsDonePayload, SyncChatsPayload } from '../events';
import { SyncResult, SyncRunView } from './sync.view';

export interface SyncRunProgress {
  nChats: number;
  currentChat: number;
  messagesSynced: number;
  chatsFailed: number;
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
  readonly progress: SyncRunProgress = { nChats: 0, currentChat: 0, messagesSynced: 0, chatsFailed: 0 };
  /** The last `sync_chats`, for a socket that joins mid-run. */
  latest: SyncChatsPayload | undefined;

  constructor(
    readonly sessionId: string,
    readonly limitPerChat: number,
    private readonly publisher: EventPublisher,
  ) {}

  /** Its row exists: the run has an id. */
  recorded(row: Pick<SyncRunEntity, 'id' | 'startedAt'>): void {
    this.syncId = row.id;
    this.startedAt = row.startedAt;
  }

  listed(nChats: number): void {
    this.progress.nChats = nChats;
    this.report({ nChats, currentChat: 0, messagesSynced: 0 });
  }

  /** The first event of the chat at `index`. */
  chatStarted(index: number, chatId: string): void {
    this.progress.currentChat = index + 1;
    this.report({ nChats: this.progress.nChats, currentChat: index + 1, chatId, messagesSynced: 0 });
  }

  chatStored(chatId: string, saved: number): void {
    this.progress.messagesSynced += saved;
    this.report({ nChats: this.progress.nChats, currentChat: this.progress.currentChat, chatId, messagesSynced: saved });
  }

  chatFailed(chatId: string, error: string): void {
    this.progress.chatsFailed++;
    this.report({ nChats: this.progress.nChats, currentChat: this.progress.currentChat, chatId, messagesSynced: 0, error });
  }

  /** Ends the run `done` and sends its `sync_chats_done`; returns the HTTP answer. */
  done(): SyncResult {
    this.end('done', null);
    const summary: Omit<SyncChatsDonePayload, 'sessionId'> = {
      syncId: this.syncId,
      chatsProcessed: this.progress.nChats,
      chatsFailed: this.progress.chatsFailed,
      messagesSynced: this.progress.messagesSynced,
      durationMs: this.durationMs(),
    };
    this.publisher.publish(this.sessionId, 'sync_chats_done', { sessionId: this.sessionId, ...summary });
    return { success: true, message: 'Synchronization completed successfully', ...summary };
  }

  /** Ends the run `failed` or `interrupted`; `announceFailure()` then sends its `sync_chats_failed`. */
  failed(status: Exclude<EndedStatus, 'done'>, error: string): void {
    this.end(status, error);
  }

  announceFailure(): void {
    this.publisher.publish(this.sessionId, 'sync_chats_failed', { sessionId: this.sessionId, syncId: this.syncId, error: this.error ?? '' });
  }

  durationMs(): number {
    return (this.finishedAt ?? new Date()).getTime() - this.startedAt.getTime();
  }

  view(): SyncRunView {
    return {
      syncId: this.syncId,
      status: this.status,
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
