import { setTimeout as delay } from 'node:timers/promises';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { WhatsappClient } from './client/whatsapp-client.port';
import { WaChat, WaMessage } from './client/whatsapp.types';
import { SyncChatsPayload } from './events';
import { ChatView } from './chats/chat.view';
import { WhatsappQueryService } from './whatsapp-query.service';
import { errorText } from '../common/error-text';
import { lastById } from './storage/pg-safe';
import { SessionService } from './session/session.service';
import { OrderedPrefetch } from './sync/ordered-prefetch';
import { SyncResult } from './sync/sync.view';
import { DEFAULT_LIMIT_PER_CHAT } from './sync/sync.dto';
import { SessionNotReadyError, SyncInterruptedError, syncFailureToHttp, WhatsappCallError } from './sync/sync-errors';
import { SyncRunProgress, SyncRunRepository } from './sync/sync-run.repository';
import { ActiveSync, SyncTracker } from './sync/sync-tracker';
import { isStorableChatId } from './storage/pg-safe';
import { PreparedMessages, unstorableChatIdText, WhatsappStorageService } from './whatsapp-storage.service';
import { WhatsappWebGateway } from './whatsapp-web.gateway';

/** The sync run row is brought up to date at most this often while a run goes. */
const PROGRESS_WRITE_INTERVAL_MS = 1000;
/** A readable log rate for long runs. */
const PROGRESS_LOG_INTERVAL_MS = 5000;
/** How long a shutdown waits for running syncs to record that they were interrupted. */
const SHUTDOWN_WAIT_MS = 5000;
/** Retries of a run outcome that could not be written: after 1, 2, 4, then every 5 s, for about 2.5 minutes. */
const OUTCOME_RETRIES = 30;
const OUTCOME_RETRY_MAX_DELAY_MS = 5000;

type ChatOutcome = { prepared: PreparedMessages } | { fetchError: string };

/** History synchronization: WhatsApp to PostgreSQL, with live progress for the session's room. */
@Injectable()
export class WhatsappWebService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WhatsappWebService.name);
  private shuttingDown = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessions: SessionService,
    private readonly storage: WhatsappStorageService,
    private readonly runs: SyncRunRepository,
    private readonly tracker: SyncTracker,
    private readonly gateway: WhatsappWebGateway,
    private readonly query: WhatsappQueryService,
  ) {}

  /** No run survives a restart: one left `running` by the previous process is marked interrupted. */
  async onApplicationBootstrap(): Promise<void> {
    const interrupted = await this.runs.markRunningAsInterrupted();
    if (interrupted > 0) this.logger.warn(`marked ${interrupted} unfinished sync run(s) as interrupted`);
  }

  /**
   * Running syncs stop at their next chat and record themselves `interrupted` while the database is
   * still open; a bounded wait, so that a stuck run cannot hold the shutdown.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    const running = this.tracker.allRunning();
    if (running.length === 0) return;
    this.logger.warn(`interrupting ${running.length} running sync(s) for the shutdown`);
    await Promise.race([Promise.allSettled(running), delay(SHUTDOWN_WAIT_MS, undefined, { ref: false })]);
  }

  /**
   * Fetches every chat and up to `limitPerChat` messages of each, stores them, and reports each step
   * as `sync_chats`. One run per session: a trigger while one runs waits for it and gets its result.
   */
  async syncChatsWithProgress(sessionId: string, limitPerChat = DEFAULT_LIMIT_PER_CHAT): Promise<SyncResult> {
    const running = this.tracker.get(sessionId);
    if (running) return running.result;
    const client = this.sessions.readyClient(sessionId);
    if (!client) {
      // 404 or 409 naming the status; if it became ready meanwhile, decide again from the start.
      await this.sessions.requireReady(sessionId);
      return this.syncChatsWithProgress(sessionId, limitPerChat);
    }
    // From the readiness check to the registration nothing awaits: a session deleted or stopped
    // before this line cannot get a run, and one deleted after it waits for the run to end.
    return this.tracker.start(sessionId, (active) => this.run(sessionId, client, limitPerChat, active)).result;
  }

  /** Synchronizes, then returns the stored chats, newest first. */
  async getChats(sessionId: string, limitPerChat = DEFAULT_LIMIT_PER_CHAT): Promise<ChatView[]> {
    await this.syncChatsWithProgress(sessionId, limitPerChat);
    return this.query.storedChats(sessionId);
  }

  private async run(sessionId: string, client: WhatsappClient, limitPerChat: number, active: ActiveSync): Promise<SyncResult> {
    const startedAt = Date.now();
    const run = await this.runs.create(sessionId, limitPerChat).catch((error: unknown) => {
      this.logger.error(`session=${sessionId} sync not started, its run could not be recorded: ${errorText(error)}`);
      throw syncFailureToHttp(error, `could not record the run: ${errorText(error)}`);
    });
    active.syncId = run.id;
    const progress = active.progress;
    const emit = (payload: SyncChatsPayload): void => {
      active.latest = payload;
      this.gateway.emitSyncChats(sessionId, payload);
    };
    const checkpoint = new Checkpoint(() => this.runs.updateProgress(run.id, { ...progress }), PROGRESS_WRITE_INTERVAL_MS);
    const logTicker = new Checkpoint(async () => this.logProgress(sessionId, progress), PROGRESS_LOG_INTERVAL_MS);
    this.logger.log(`session=${sessionId} sync ${run.id} started (limitPerChat ${limitPerChat})`);

    try {
      const chats = lastById(await this.fetchChats(sessionId, client));
      progress.nChats = chats.length;
      emit({ sessionId, nChats: chats.length, currentChat: 0, messagesSynced: 0 });
      // Chats ahead of the one being reported are fetched and prepared concurrently; writes go one
      // chat at a time, in order, so that the run's writes end with it and an id two chats list is
      // always kept by the same (the first) one.
      const pipeline = new OrderedPrefetch(chats, this.config.syncFetchConcurrency, (chat: WaChat) =>
        this.fetchAndPrepare(sessionId, client, chat, limitPerChat),
      );

      await this.storage.saveChats(sessionId, chats, async (index, total, chat) => {
        const base = { sessionId, nChats: total, currentChat: index + 1, chatId: chat.id };
        progress.currentChat = index + 1;
        emit({ ...base, messagesSynced: 0 });
        this.assertStillReady(sessionId);
        const outcome = await pipeline.take(index);
        // Deleted, stopped or shutting down while this chat was fetched: nothing more is written.
        this.assertStillReady(sessionId);
        if ('fetchError' in outcome) {
          this.logger.warn(`session=${sessionId} chat ${chat.id} failed: ${outcome.fetchError}`);
          progress.chatsFailed++;
          emit({ ...base, messagesSynced: 0, error: outcome.fetchError });
        } else {
          const saved = await this.storage.writeMessages(outcome.prepared);
          progress.messagesSynced += saved;
          emit({ ...base, messagesSynced: saved });
        }
        await checkpoint.maybe();
        await logTicker.maybe();
      });

      await this.runs.finish(run.id, 'done', progress, null);
      this.tracker.recordEnd(sessionId, { syncId: run.id, status: 'done', error: null, finishedAt: new Date(), progress: { ...progress } });
      const summary = {
        syncId: run.id,
        chatsProcessed: progress.nChats,
        chatsFailed: progress.chatsFailed,
        messagesSynced: progress.messagesSynced,
        durationMs: Date.now() - startedAt,
      };
      this.gateway.emitSyncDone(sessionId, { sessionId, ...summary });
      this.logger.log(
        `session=${sessionId} sync ${run.id} done: ${summary.chatsProcessed} chats (${summary.chatsFailed} failed), ` +
          `${summary.messagesSynced} messages in ${summary.durationMs} ms`,
      );
      return { success: true, message: 'Synchronization completed successfully', ...summary };
    } catch (error) {
      const message = errorText(error);
      const status = error instanceof SyncInterruptedError ? 'interrupted' : 'failed';
      this.logger.error(`session=${sessionId} sync ${run.id} ${status} at chat ${progress.currentChat}/${progress.nChats}: ${message}`);
      this.tracker.recordEnd(sessionId, { syncId: run.id, status, error: message, finishedAt: new Date(), progress: { ...progress } });
      await this.recordOutcome(sessionId, run.id, status, progress, message);
      this.gateway.emitSyncFailed(sessionId, { sessionId, syncId: run.id, error: message });
      throw syncFailureToHttp(error, message);
    }
  }

  private async fetchChats(sessionId: string, client: WhatsappClient): Promise<WaChat[]> {
    try {
      return await client.getChats();
    } catch (error) {
      this.assertStillReady(sessionId);
      throw new WhatsappCallError(`could not fetch the chat list: ${errorText(error)}`);
    }
  }

  /**
   * One chat's work ahead of its turn: fetch its messages and prepare their statements. A failed
   * fetch, or an id that cannot be stored, fails this chat alone; a failed write (at its turn) fails
   * the run, since the database is then in question.
   */
  private async fetchAndPrepare(sessionId: string, client: WhatsappClient, chat: WaChat, limit: number): Promise<ChatOutcome> {
    // saveChats left it out: its messages are not fetched either.
    if (!isStorableChatId(chat.id)) return { fetchError: unstorableChatIdText(chat.id) };
    let messages: WaMessage[];
    try {
      messages = await client.fetchMessages(chat.id, limit);
    } catch (error) {
      return { fetchError: errorText(error) };
    }
    return { prepared: this.storage.prepareMessages(sessionId, chat.id, messages) };
  }

  /**
   * Writes how a failed run ended. If the database is what failed, the write is retried in the
   * background until it is back; meanwhile `latest` answers from memory.
   */
  private async recordOutcome(sessionId: string, syncId: string, status: 'failed' | 'interrupted', progress: SyncRunProgress, error: string): Promise<void> {
    const snapshot = { ...progress };
    const attempt = (n: number): Promise<void> =>
      this.runs.finish(syncId, status, snapshot, error).catch((writeError: unknown) => {
        if (n >= OUTCOME_RETRIES || this.shuttingDown) {
          this.logger.error(`session=${sessionId} sync ${syncId} outcome not stored: ${errorText(writeError)}`);
          return;
        }
        if (n === 0) this.logger.warn(`session=${sessionId} sync ${syncId} outcome not stored yet, retrying: ${errorText(writeError)}`);
        setTimeout(() => void attempt(n + 1), Math.min(1000 * 2 ** n, OUTCOME_RETRY_MAX_DELAY_MS)).unref();
      });
    await attempt(0);
  }

  private assertStillReady(sessionId: string): void {
    if (this.shuttingDown) throw new SyncInterruptedError('the service is shutting down');
    const status = this.sessions.statusOf(sessionId);
    if (status !== 'ready') throw new SessionNotReadyError(`session ${sessionId} is no longer ready (status: ${status ?? 'deleted'})`);
  }

  private logProgress(sessionId: string, progress: SyncRunProgress): void {
    this.logger.log(
      `session=${sessionId} sync progress: chat ${progress.currentChat}/${progress.nChats}, ${progress.messagesSynced} messages, ${progress.chatsFailed} failed`,
    );
  }
}

/** Runs `task` when at least `intervalMs` passed since it last ran. */
class Checkpoint {
  private last = Date.now();
  constructor(
    private readonly task: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  async maybe(): Promise<void> {
    if (Date.now() - this.last < this.intervalMs) return;
    this.last = Date.now();
    await this.task();
  }
}
