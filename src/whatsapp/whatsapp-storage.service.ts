import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { KeyedSerial } from '../common/keyed-serial';
import { JsonValue, jsonEqual } from '../common/json-equal';
import { ChatEntity } from '../database/entities/chat.entity';
import { MessageEntity } from '../database/entities/message.entity';
import { MessageReactionEntity } from '../database/entities/message-reaction.entity';
import { MessageView, messageRowToView, reactionsByMessage } from './chats/chat.view';
import { WaChat, WaMessage, WaMessageEdit, WaMessageRevoke, WaReaction } from './client/whatsapp.types';
import { ChangeOutcome, MessageChangeRepository } from './storage/message-change.repository';
import { ChatRepository, StoredChat, toChatRow } from './storage/chat.repository';
import { MessageRepository, MessagesWritten, toMessageRow } from './storage/message.repository';
import { MessageCursor } from './storage/message-cursor';
import { jsonBatches } from './storage/json-batches';
import { isStorableChatId, lastById, MAX_CHAT_ID_BYTES, pgSafeInt, pgSafeJson, pgSafeText, pgSafeTimestamp } from './storage/pg-safe';
import { SyncRunRepository } from './sync/sync-run.repository';
import { EVENT_OUTBOX, EventOutbox } from './event-outbox';
import { LeaseLostError, SessionFence } from './session/session-fence';
import { MediaQueue } from '../media/media-queue';

/** Called after each chat is committed; `currentIndex` is the chat's 0-based position in `chats`. */
export type ChatsProgress = (currentIndex: number, total: number, chat: WaChat) => void | Promise<void>;
/** Called once the whole batch is committed, with the number of messages it stored. */
export type MessagesProgress = (messagesSaved: number) => void | Promise<void>;

/** The statements that store one chat's messages, ready to send. */
export interface PreparedMessages {
  sessionId: string;
  chatId: string;
  /** The messages' ids as stored, each once. */
  ids: string[];
  /** JSON arrays of rows, one per statement. */
  batches: string[];
  /** The ids (as stored) of the messages with media. */
  mediaIds: string[];
  /**
   * A catch-up of a chat that already had stored messages: each message new to the store is what
   * arrived while the service was away, and becomes a `message` outbox event (`source: "catch-up"`).
   */
  catchUp: boolean;
}

/** What a live change did, and the message's view when it changed a stored message. */
export interface ChangeResult {
  outcome: ChangeOutcome;
  message: MessageView | null;
}

/** Rows per upsert statement at most (huge rows end a batch earlier: see BATCH_MAX_JSON_CHARS). */
export const CHAT_BATCH_SIZE = 500;
export const MESSAGE_BATCH_SIZE = 2000;
/** Live messages stored in one transaction at most. */
const LIVE_BATCH_MAX = 500;

/**
 * The one way in to stored chats and messages: what a row may hold, batches, and which writes share
 * a transaction. The SQL is the repositories' (storage/chat.repository.ts, message.repository.ts,
 * message-change.repository.ts).
 *
 * Live messages and changes of one session run one after another (`messageWrites`), and a sync's
 * chat writes between them: a change for a message not stored yet is kept as pending and applied by
 * the write that stores the message, and this order is what guarantees that the write sees it (or
 * that the change sees the message). A run's chat writes may overlap one another (the run never
 * lets two that share a message id overlap: see sync/write-window.ts).
 */
@Injectable()
export class WhatsappStorageService {
  private readonly messageWrites = new KeyedSerial();
  /** Per session, the live messages waiting for their write, which a message arriving now joins. */
  private readonly liveBatches = new Map<string, LiveBatch>();
  private readonly keepRevokedBody: boolean;

  constructor(
    /** For transactions only: the statements are the repositories'. */
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly chatRows: ChatRepository,
    private readonly messageRows: MessageRepository,
    private readonly runRows: SyncRunRepository,
    private readonly changeRows: MessageChangeRepository,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'keepRevokedBody'>,
    @Inject(EVENT_OUTBOX) private readonly outbox: EventOutbox,
    private readonly media: MediaQueue,
    /** Live writes and catch-ups are refused once another instance owns the session. */
    private readonly fence: SessionFence,
  ) {
    this.keepRevokedBody = config.keepRevokedBody;
  }

  /**
   * Upserts every chat in multi-row batches, then awaits `onProgress` for each chat in order: that is
   * where a sync does its per-chat work, knowing that every chat row is already committed.
   */
  async saveChats(sessionId: string, chats: readonly WaChat[], onProgress?: ChatsProgress): Promise<void> {
    // A chat listed twice is one chat: stored once, reported once (the last listing wins, as in one upsert).
    const unique = lastById(chats);
    await this.upsertChats(sessionId, unique);
    if (!onProgress) return;
    for (let index = 0; index < unique.length; index++) await onProgress(index, unique.length, unique[index]);
  }

  /**
   * The stored chats of the session (of `chatIds` only, when given) as stored, with each one's newest
   * stored message, by chat id as stored; a chat not stored has no entry.
   */
  storedChats(sessionId: string, chatIds: readonly string[] | null = null): Promise<Map<string, StoredChat>> {
    return this.chatRows.stored(sessionId, chatIds && chatIds.map(pgSafeText));
  }

  /**
   * `saveChats` of only the listed chats whose row is not stored exactly so in `stored` (as read by
   * `storedChats`): with nothing changed, no statement at all. A chat the comparison cannot tell
   * equal (a number JSON cannot carry exactly, say) is simply upserted, which changes nothing then.
   */
  async saveChangedChats(sessionId: string, chats: readonly WaChat[], stored: ReadonlyMap<string, StoredChat>): Promise<void> {
    const changed = chats.filter((chat) => {
      const row = stored.get(pgSafeText(chat.id))?.row;
      return !row || !jsonEqual(JSON.parse(pgSafeJson(toChatRow(chat))) as JsonValue, row);
    });
    if (changed.length > 0) await this.upsertChats(sessionId, changed);
  }

  /** Upserts a chat's messages atomically (one statement, or one transaction), then reports how many it holds. */
  async saveMessages(
    sessionId: string,
    chatId: string,
    messages: readonly WaMessage[],
    onProgress?: MessagesProgress,
  ): Promise<number> {
    const prepared = this.prepareMessages(sessionId, chatId, messages);
    const { held } = await this.exclusive(sessionId, () => this.upsertPrepared(prepared));
    await onProgress?.(held);
    return held;
  }

  /**
   * The CPU half of `saveMessages`: the statements' JSON, built without touching the database, so
   * that a sync can prepare chats ahead of their writes.
   */
  prepareMessages(sessionId: string, chatId: string, messages: readonly WaMessage[], catchUp = false): PreparedMessages {
    const unique = lastById(messages);
    const mediaIds = unique.filter((m) => m.hasMedia).map((m) => pgSafeText(m.id));
    return { sessionId, chatId: pgSafeText(chatId), ids: unique.map((m) => pgSafeText(m.id)), batches: jsonBatches(unique, toMessageRow, MESSAGE_BATCH_SIZE), mediaIds, catchUp };
  }

  /**
   * The database half of `saveMessages`, for a sync: how many of the messages the chat holds once
   * committed, and how many are new. A run's writes may overlap one another (not live changes):
   * the run keeps apart those that share a message id.
   */
  writeMessages(prepared: PreparedMessages): Promise<MessagesWritten> {
    this.liveBatches.delete(prepared.sessionId);
    return this.messageWrites.runShared(prepared.sessionId, async () => {
      const written = await this.upsertPrepared(prepared);
      // MEDIA_DOWNLOAD=all: queued once committed, in the background (see MediaQueue).
      this.media.queueSynced(prepared.sessionId, prepared.mediaIds);
      return written;
    });
  }

  /** All of a chat's statements, atomically. */
  private async upsertPrepared(prepared: PreparedMessages): Promise<MessagesWritten> {
    const { sessionId, chatId, batches } = prepared;
    if (batches.length === 0) return { held: 0, inserted: 0 };
    if (prepared.catchUp) return this.upsertCatchUp(prepared);
    const keep = this.keepRevokedBody;
    // One statement is atomic on its own: no BEGIN/COMMIT round trips for the common case.
    if (batches.length === 1) return this.messageRows.upsert(sessionId, chatId, batches[0], keep);
    return this.dataSource.transaction(async (manager) => {
      const total = { held: 0, inserted: 0 };
      for (const batch of batches) {
        const written = await this.messageRows.upsert(sessionId, chatId, batch, keep, manager);
        total.held += written.held;
        total.inserted += written.inserted;
      }
      return total;
    });
  }

  /**
   * A catch-up's statements and, in the same transaction, a `message` outbox event for each new row,
   * oldest first: both commit or neither does.
   */
  private upsertCatchUp({ sessionId, chatId, batches }: PreparedMessages): Promise<MessagesWritten> {
    return this.dataSource.transaction(async (manager) => {
      await this.fence.check(manager, sessionId);
      const total = { held: 0, inserted: 0 };
      const newIds: string[] = [];
      for (const batch of batches) {
        const written = await this.messageRows.upsertReturningNew(sessionId, chatId, batch, this.keepRevokedBody, manager);
        total.held += written.held;
        total.inserted += written.inserted;
        newIds.push(...written.insertedIds);
      }
      if (newIds.length > 0) {
        const views = await this.messageViews(sessionId, newIds, manager);
        await this.outbox.recordAll(manager, sessionId, 'message', views.map((message) => ({ sessionId, message, source: 'catch-up' as const })));
      }
      return total;
    });
  }

  /**
   * Stores one live message, with a placeholder chat row when the chat was never synced, and answers
   * it as stored (with the changes that were waiting for it, and its reactions). Messages that
   * arrive while the session's previous write runs are stored together, in one transaction, after
   * it (see LiveBatch): under load a message costs a share of a few statements, not a transaction.
   */
  saveLiveMessage(sessionId: string, message: WaMessage): Promise<MessageView | null> {
    if (!isStorableChatId(message.chatId)) return Promise.reject(new Error(unstorableChatIdText(message.chatId)));
    const open = this.liveBatches.get(sessionId);
    if (open && open.messages.length < LIVE_BATCH_MAX) return open.add(message);
    const batch = new LiveBatch();
    this.liveBatches.set(sessionId, batch);
    const result = batch.add(message);
    void this.messageWrites.run(sessionId, () => {
      // From now on, messages form the next batch.
      if (this.liveBatches.get(sessionId) === batch) this.liveBatches.delete(sessionId);
      return batch.settle(
        () => retryingLiveWrite(() => this.writeLiveBatch(sessionId, batch.messages)),
        // Given up as a whole: each message on its own, so that one the database refuses fails alone.
        (message) => this.writeLiveBatch(sessionId, [message]).then(([view]) => view),
      );
    });
    return result;
  }

  /** One transaction: the messages' chats and rows, their `message` outbox events (new rows only, in arrival order). */
  private async writeLiveBatch(sessionId: string, messages: readonly WaMessage[]): Promise<Array<MessageView | null>> {
    let mediaQueued = 0;
    const views = await this.dataSource.transaction(async (manager) => {
      await this.fence.check(manager, sessionId);
      const byChat = new Map<string, WaMessage[]>();
      for (const message of messages) {
        const chatId = pgSafeText(message.chatId);
        const list = byChat.get(chatId);
        if (list) list.push(message);
        else byChat.set(chatId, [message]);
      }
      const inserted = new Set<string>();
      for (const [chatId, ofChat] of byChat) {
        const newest = ofChat.reduce((a, b) => ((pgSafeTimestamp(b.timestamp) ?? 0) > (pgSafeTimestamp(a.timestamp) ?? 0) ? b : a));
        await this.chatRows.insertStub(sessionId, chatId, chatId.endsWith('@g.us'), pgSafeTimestamp(newest.timestamp), manager);
        const rows = pgSafeJson(lastById(ofChat).sort(byId).map(toMessageRow));
        const written = await this.messageRows.upsertReturningNew(sessionId, chatId, rows, this.keepRevokedBody, manager);
        for (const id of written.insertedIds) inserted.add(id);
      }
      const ids = [...new Set(messages.map((m) => pgSafeText(m.id)))];
      // Queued with the rows, so that the `message` event already shows the media as pending.
      const withMedia = [...new Set(messages.filter((m) => m.hasMedia).map((m) => pgSafeText(m.id)))];
      mediaQueued = await this.media.queueLive(manager, sessionId, withMedia);
      const views = new Map((await this.messageViews(sessionId, ids, manager)).map((view) => [view.id, view]));
      // First stored now: the outbox's `message`, committed with the row (a repeat sends none).
      const firsts = ids.filter((id) => inserted.has(id) && views.has(id)).map((id) => ({ sessionId, message: views.get(id)!, source: 'live' as const }));
      await this.outbox.recordAll(manager, sessionId, 'message', firsts);
      return messages.map((m) => views.get(pgSafeText(m.id)) ?? null);
    });
    if (mediaQueued > 0) this.media.wake();
    return views;
  }

  /** An exclusive write of the session (see KeyedSerial): messages arriving after it form a batch of their own. */
  private exclusive<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    this.liveBatches.delete(sessionId);
    return this.messageWrites.run(sessionId, task);
  }

  /** The highest ack wins; for a message not stored yet it is kept until the message arrives. */
  updateMessageAck(sessionId: string, messageId: string, chatId: string, ack: number): Promise<ChangeResult> {
    return this.change(sessionId, messageId, (manager) => this.changeRows.ack(sessionId, pgSafeText(messageId), pgSafeText(chatId), pgSafeInt(ack), manager));
  }

  /** An edit replaces the text and sets `editedAt`; kept until the message arrives when it is not stored yet. */
  applyEdit(sessionId: string, edit: WaMessageEdit): Promise<ChangeResult> {
    const editedAt = pgSafeTimestamp(edit.editedAt) ?? 0;
    return this.change(sessionId, edit.messageId, (manager) =>
      this.changeRows.edit(sessionId, pgSafeText(edit.messageId), pgSafeText(edit.chatId), pgSafeText(edit.body), editedAt, this.keepRevokedBody, manager),
    );
  }

  /** A deletion for everyone: the row stays, marked, without its text unless KEEP_REVOKED_BODY=true. */
  applyRevoke(sessionId: string, revoke: WaMessageRevoke): Promise<ChangeResult> {
    const revokedAt = pgSafeTimestamp(revoke.revokedAt) ?? 0;
    return this.change(sessionId, revoke.messageId, (manager) =>
      this.changeRows.revoke(sessionId, pgSafeText(revoke.messageId), pgSafeText(revoke.chatId), revokedAt, this.keepRevokedBody, manager),
    );
  }

  /**
   * Sets, replaces or (`emoji: ""`) removes one sender's reaction. Reactions need no pending row:
   * keyed by the message's id, one to a message not stored yet shows once it arrives.
   */
  applyReaction(sessionId: string, reaction: WaReaction): Promise<ChangeResult> {
    const timestamp = pgSafeTimestamp(reaction.timestamp) ?? 0;
    return this.change(sessionId, reaction.messageId, async (manager) => {
      const changed = await this.changeRows.react(sessionId, pgSafeText(reaction.messageId), pgSafeText(reaction.senderId), pgSafeText(reaction.emoji), timestamp, manager);
      return changed ? 'changed' : 'unchanged';
    });
  }

  /**
   * A change of a message's media (`write` answers whether it changed the status), in the session's
   * write order like the changes above, with its `message_update` outbox event when it did.
   */
  applyMediaChange(sessionId: string, messageId: string, write: (manager: EntityManager) => Promise<boolean>): Promise<ChangeResult> {
    return this.change(sessionId, messageId, async (manager) => ((await write(manager)) ? 'changed' : 'unchanged'));
  }

  /**
   * One live change, in the session's write order, with the message's view read right after it (in
   * that order too, so that each view shows exactly the changes up to this one).
   */
  private change(sessionId: string, messageId: string, write: (manager: EntityManager) => Promise<ChangeOutcome>): Promise<ChangeResult> {
    return this.exclusive(sessionId, () =>
      this.dataSource.transaction(async (manager) => {
        await this.fence.check(manager, sessionId);
        const outcome = await write(manager);
        const message = outcome === 'changed' ? await this.messageView(sessionId, messageId, manager) : null;
        if (message) await this.outbox.record(manager, sessionId, 'message_update', { sessionId, message });
        return { outcome, message };
      }),
    );
  }

  /** A stored message as clients see it, or `null` when it is not stored. */
  async messageView(sessionId: string, messageId: string, manager?: EntityManager): Promise<MessageView | null> {
    const [view] = await this.messageViews(sessionId, [pgSafeText(messageId)], manager);
    return view ?? null;
  }

  /** The stored messages of these ids (as stored) as clients see them, with their reactions, oldest first; ids not stored are left out. */
  private async messageViews(sessionId: string, ids: readonly string[], manager?: EntityManager): Promise<MessageView[]> {
    const rows = await this.changeRows.findMessages(sessionId, ids, manager);
    if (rows.length === 0) return [];
    const reactions = reactionsByMessage(await this.changeRows.reactionsOf(sessionId, rows.map((row) => row.waId), manager));
    const withMedia = rows.filter((row) => row.hasMedia).map((row) => row.waId);
    const media = withMedia.length > 0 ? await this.media.viewsOf(sessionId, withMedia, manager) : new Map<string, never>();
    return rows.map((row) => messageRowToView(row, reactions, media));
  }

  /** The reactions to these messages, oldest first. */
  reactionsOf(sessionId: string, messageIds: readonly string[]): Promise<MessageReactionEntity[]> {
    return this.changeRows.reactionsOf(sessionId, messageIds);
  }

  /** Stored chats, newest activity first. */
  listChats(sessionId: string): Promise<ChatEntity[]> {
    return this.chatRows.list(sessionId);
  }

  chatExists(sessionId: string, chatId: string): Promise<boolean> {
    return this.chatRows.exists(sessionId, chatId);
  }

  /** One page of a chat's messages, newest first, strictly older than `before`. */
  listMessages(sessionId: string, chatId: string, limit: number, before: MessageCursor | null): Promise<MessageEntity[]> {
    return this.messageRows.page(sessionId, chatId, limit, before);
  }

  /**
   * Removes everything stored for a session (`DELETE ...?purge=true`): chats, messages, reactions,
   * pending changes, runs, media, and the outbox's copies of its messages (a webhook not sent yet is
   * not sent). Stored media objects no other session refers to are deleted after the commit.
   */
  async purgeSession(sessionId: string): Promise<void> {
    const unreferenced = await this.outbox.purging(sessionId, () =>
      this.dataSource.transaction(async (manager) => {
        await this.outbox.forgetMessages(manager, sessionId);
        const mediaObjects = await this.media.forgetSession(manager, sessionId);
        await this.messageRows.deleteSession(sessionId, manager);
        await this.changeRows.deleteSession(sessionId, manager);
        await this.chatRows.deleteSession(sessionId, manager);
        await this.runRows.deleteSession(sessionId, manager);
        return mediaObjects;
      }),
    );
    await this.media.forgetObjects(unreferenced);
  }

  /** Chats whose id cannot be stored are left out; the sync reports each of them as a failed chat. */
  private async upsertChats(sessionId: string, chats: readonly WaChat[]): Promise<void> {
    for (const batch of jsonBatches(storableChats(chats), toChatRow, CHAT_BATCH_SIZE)) await this.chatRows.upsert(sessionId, batch);
  }
}

/** The chats a chat upsert stores: ids that can be stored, each once (the last listing wins). */
function storableChats(chats: readonly WaChat[]): WaChat[] {
  return lastById(chats.filter((c) => isStorableChatId(c.id)));
}

/** Why a chat, or a live message of it, is not stored. */
export function unstorableChatIdText(chatId: string): string {
  return `chat id is empty or longer than ${MAX_CHAT_ID_BYTES} bytes (${Buffer.byteLength(pgSafeText(chatId), 'utf8')}); not stored`;
}

/**
 * A live batch is all the messages that arrived meanwhile: a write that fails (a connection cut, the
 * database restarting) is tried again a few times before they are given up (and logged). It is
 * idempotent: rows are upserted, and outbox rows written only for rows it inserts.
 */
const LIVE_WRITE_RETRY_DELAYS_MS = [100, 400, 1600];

async function retryingLiveWrite<T>(write: () => Promise<T>): Promise<T> {
  for (const delay of LIVE_WRITE_RETRY_DELAYS_MS) {
    try {
      return await write();
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  return write();
}

const byId = (a: WaMessage, b: WaMessage): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Live messages written together, each caller answered with its own message's view. */
class LiveBatch {
  readonly messages: WaMessage[] = [];
  private readonly waiting: Array<{ resolve: (view: MessageView | null) => void; reject: (error: unknown) => void }> = [];

  add(message: WaMessage): Promise<MessageView | null> {
    this.messages.push(message);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /**
   * Runs the write and answers every caller. If it failed, a batch of several messages writes each
   * on its own (`writeOne`), and each caller gets its own message's outcome.
   */
  async settle(write: () => Promise<Array<MessageView | null>>, writeOne: (message: WaMessage) => Promise<MessageView | null>): Promise<void> {
    try {
      const views = await write();
      this.waiting.forEach((w, index) => w.resolve(views[index]));
    } catch (error) {
      // Refused as a whole (the session is another instance's now): so would each message be.
      if (error instanceof LeaseLostError) return this.waiting.forEach((w) => w.reject(error));
      if (this.messages.length === 1) return this.waiting[0].reject(error);
      for (const [index, w] of this.waiting.entries()) await writeOne(this.messages[index]).then(w.resolve, w.reject);
    }
  }
}
