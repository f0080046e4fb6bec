import { setImmediate as nextMacrotask, setTimeout as delay } from 'node:timers/promises';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { errorText } from '../common/error-text';
import { retryInBackground } from '../common/retry-in-background';
import { Throttle } from '../common/throttle';
import { WhatsappClient } from './client/whatsapp-client.port';
import { WaChat, WaMessage } from './client/whatsapp.types';
import { EventPublisher } from './event-publisher';
import { ChatView } from './chats/chat.view';
import { SessionService } from './session/session.service';
import { isStorableChatId, lastById } from './storage/pg-safe';
import { OrderedPrefetch } from './sync/ordered-prefetch';
import { SyncResult } from './sync/sync.view';
import { DEFAULT_LIMIT_PER_CHAT } from './sync/sync.dto';
import { SessionNotReadyError, SyncInterruptedError, syncFailureToHttp, WhatsappCallError } from './sync/sync-errors';
import { SyncRun } from './sync/sync-run';
import { SyncRunRepository } from './sync/sync-run.repository';
import { SyncTracker } from './sync/sync-tracker';
import { WhatsappQueryService } from './whatsapp-query.service';
import { PreparedMessages, unstorableChatIdText, WhatsappStorageService } from './whatsapp-storage.service';

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
export class WhatsappWebService implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(WhatsappWebService.name);
  private shuttingDown = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessions: SessionService,
    private readonly storage: WhatsappStorageService,
    private readonly runs: SyncRunRepository,
    private readonly tracker: SyncTracker,
    private readonly publisher: EventPublisher,
    private readonly query: WhatsappQueryService,
  ) {}

  /** No run survives a restart: one left `running` by the previous process is marked interrupted. */
  async onApplicationBootstrap(): Promise<void> {
    const interrupted = await this.runs.markRunningAsInterrupted();
    if (interrupted > 0) this.logger.warn(`marked ${interrupted} unfinished sync run(s) as interrupted`);
  }

  /**
   * The first shutdown hook, before the HTTP drain waits for requests in flight (a sync's among
   * them): running syncs stop at their next chat instead of running on through the drain.
   */
  onModuleDestroy(): void {
    this.shuttingDown = true;
  }

  /** Waits, bounded, for the running syncs to record that they were interrupted, while the database is open. */
  async beforeApplicationShutdown(): Promise<void> {
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
    if (this.shuttingDown) throw syncFailureToHttp(new SyncInterruptedError('the service is shutting down'), 'the service is shutting down');
    const client = this.sessions.readyClient(sessionId);
    if (!client) {
      // 404 or 409 naming the status; if it became ready meanwhile, decide again from the start.
      await this.sessions.requireReady(sessionId);
      return this.syncChatsWithProgress(sessionId, limitPerChat);
    }
    // From the readiness check to the registration nothing awaits: a session deleted or stopped
    // before this line cannot get a run, and one deleted after it waits for the run to end.
    const run = new SyncRun(sessionId, limitPerChat, this.publisher);
    return this.tracker.start(run, () => this.execute(run, client));
  }

  /** Synchronizes, then returns the stored chats, newest first. */
  async getChats(sessionId: string, limitPerChat = DEFAULT_LIMIT_PER_CHAT): Promise<ChatView[]> {
    await this.syncChatsWithProgress(sessionId, limitPerChat);
    return this.query.storedChats(sessionId);
  }

  /** A run from its row to its outcome; a failure as a whole becomes the HTTP error of its cause. */
  private async execute(run: SyncRun, client: WhatsappClient): Promise<SyncResult> {
    const { sessionId } = run;
    const row = await this.runs.create(sessionId, run.limitPerChat).catch((error: unknown) => {
      this.logger.error(`sync not started, its run could not be recorded: ${errorText(error)}`, { sessionId });
      throw syncFailureToHttp(error, `could not record the run: ${errorText(error)}`);
    });
    run.recorded(row);
    const log = { sessionId, syncId: run.syncId };
    this.logger.log(`sync started (limitPerChat ${run.limitPerChat})`, log);
    try {
      await this.syncChats(run, client);
      await this.runs.finish(run.syncId, 'done', run.progress, null);
      const result = run.done();
      this.logger.log(
        `sync done: ${result.chatsProcessed} chats (${result.chatsFailed} failed), ${result.messagesSynced} messages in ${result.durationMs} ms`,
        log,
      );
      // One turn of the event loop: the sockets' writes of the last events complete and what waited
      // behind them is written, so that `sync_chats_done` is on its way before the HTTP answer.
      await nextMacrotask();
      return result;
    } catch (error) {
      const message = errorText(error);
      const status = error instanceof SyncInterruptedError ? 'interrupted' : 'failed';
      this.logger.error(`sync ${status} at chat ${run.progress.currentChat}/${run.progress.nChats}: ${message}`, log);
      run.failed(status, message);
      await this.recordOutcome(run);
      run.announceFailure();
      await nextMacrotask();
      throw syncFailureToHttp(error, message);
    }
  }

  /** Every chat, in order: its first event, its fetched messages stored, its second event. */
  private async syncChats(run: SyncRun, client: WhatsappClient): Promise<void> {
    const { sessionId } = run;
    const progressWrite = new Throttle(PROGRESS_WRITE_INTERVAL_MS, () => this.runs.updateProgress(run.syncId, { ...run.progress }));
    const progressLog = new Throttle(PROGRESS_LOG_INTERVAL_MS, () => this.logProgress(run));
    const chats = lastById(await this.fetchChats(sessionId, client));
    run.listed(chats.length);
    // Chats ahead of the one being reported are fetched and prepared concurrently; writes go one
    // chat at a time, in order, so that the run's writes end with it and an id two chats list is
    // always kept by the same (the first) one.
    const pipeline = new OrderedPrefetch(chats, this.config.syncFetchConcurrency, (chat: WaChat) =>
      this.fetchAndPrepare(sessionId, client, chat, run.limitPerChat),
    );
    await this.storage.saveChats(sessionId, chats, async (index, _total, chat) => {
      run.chatStarted(index, chat.id);
      this.assertStillReady(sessionId);
      const outcome = await pipeline.take(index);
      // Deleted, stopped or shutting down while this chat was fetched: nothing more is written.
      this.assertStillReady(sessionId);
      if ('fetchError' in outcome) {
        this.logger.warn(`chat failed: ${outcome.fetchError}`, { sessionId, syncId: run.syncId, chatId: chat.id });
        run.chatFailed(chat.id, outcome.fetchError);
      } else {
        run.chatStored(chat.id, await this.storage.writeMessages(outcome.prepared));
      }
      await progressWrite.maybe();
      await progressLog.maybe();
    });
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
   * background until it is back; meanwhile `latest` answers from the run in memory.
   */
  private recordOutcome(run: SyncRun): Promise<void> {
    const { syncId, sessionId } = run;
    const status = run.status === 'interrupted' ? 'interrupted' : 'failed';
    const progress = { ...run.progress };
    return retryInBackground(() => this.runs.finish(syncId, status, progress, run.error), {
      retries: OUTCOME_RETRIES,
      maxDelayMs: OUTCOME_RETRY_MAX_DELAY_MS,
      stopped: () => this.shuttingDown,
      onRetrying: (error) => this.logger.warn(`sync outcome not stored yet, retrying: ${errorText(error)}`, { sessionId, syncId }),
      onGaveUp: (error) => this.logger.error(`sync outcome not stored: ${errorText(error)}`, { sessionId, syncId }),
    });
  }

  private assertStillReady(sessionId: string): void {
    if (this.shuttingDown) throw new SyncInterruptedError('the service is shutting down');
    const status = this.sessions.statusOf(sessionId);
    if (status !== 'ready') throw new SessionNotReadyError(`session ${sessionId} is no longer ready (status: ${status ?? 'deleted'})`);
  }

  private logProgress(run: SyncRun): void {
    const { currentChat, nChats, messagesSynced, chatsFailed } = run.progress;
    this.logger.log(`sync progress: chat ${currentChat}/${nChats}, ${messagesSynced} messages, ${chatsFailed} failed`, {
      sessionId: run.sessionId,
      syncId: run.syncId,
    });
  }
}
