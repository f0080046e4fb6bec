import { setImmediate as nextMacrotask, setTimeout as delay } from 'node:timers/promises';
import { BadGatewayException, BeforeApplicationShutdown, Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { errorText } from '../common/error-text';
import { retryInBackground } from '../common/retry-in-background';
import { Throttle } from '../common/throttle';
import { Deferred } from '../common/deferred';
import { WhatsappClient } from './client/whatsapp-client.port';
import { WaChat, WaMessage } from './client/whatsapp.types';
import { EventPublisher } from './event-publisher';
import { SessionLeaseService } from '../instances/session-lease.service';
import { LeaseLostError } from './session/session-fence';
import { EVENT_OUTBOX, EventOutbox } from './event-outbox';
import { ChatView } from './chats/chat.view';
import { SessionService } from './session/session.service';
import { NewestStored, StoredChat } from './storage/chat.repository';
import { MessagesWritten } from './storage/message.repository';
import { isStorableChatId, lastById, pgSafeText } from './storage/pg-safe';
import { fetchSinceStored, isUnchanged } from './sync/catch-up';
import { OrderedPrefetch } from './sync/ordered-prefetch';
import { WriteWindow, writeConcurrency } from './sync/write-window';
import { ChatSyncResult, SyncResult } from './sync/sync.view';
import { DEFAULT_LIMIT_PER_CHAT, DEFAULT_SYNC_MODE } from './sync/sync.dto';
import { SessionNotReadyError, SyncInterruptedError, syncFailureToHttp, WhatsappCallError } from './sync/sync-errors';
import { SyncRun } from './sync/sync-run';
import { SyncMode, SyncTrigger } from '../database/entities/sync-run.entity';
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

/** A chat's fetch, ready for its turn; `fetches`: the calls into WhatsApp it made. */
type ChatOutcome = ({ prepared: PreparedMessages; gap: boolean } | { fetchError: string }) & { fetches: number };
/** What became of a chat at its turn: its fetch failed, or its messages were stored. */
type ChatStep = ({ written: MessagesWritten; gap: boolean } | { fetchError: string }) & { fetches: number };

/** A chat a run fetches; `stored`: its newest stored message, when an incremental run found one. */
interface ChatWork {
  chat: WaChat;
  stored: NewestStored;
}

/** The chats a run fetches, and the upsert of every listed chat row (settled before any message write). */
interface RunWork {
  work: ChatWork[];
  chatRows: Promise<void>;
}

export interface SyncOptions {
  mode?: SyncMode;
  trigger?: SyncTrigger;
}

/** History synchronization: WhatsApp to PostgreSQL, with live progress for the session's room. */
@Injectable()
export class WhatsappWebService implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(WhatsappWebService.name);
  private shuttingDown = false;
  private leftoversMarked: Promise<void> = Promise.resolve();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessions: SessionService,
    private readonly storage: WhatsappStorageService,
    private readonly runs: SyncRunRepository,
    private readonly tracker: SyncTracker,
    private readonly publisher: EventPublisher,
    private readonly query: WhatsappQueryService,
    @Inject(EVENT_OUTBOX) private readonly outbox: EventOutbox,
    private readonly leases: SessionLeaseService,
  ) {}

  /**
   * No run survives a restart: one left `running` by the previous process is marked interrupted.
   * Runs wait for this (a session restored at boot starts its catch-up from a concurrent hook), so
   * that the mark never hits a run of this process.
   */
  async onApplicationBootstrap(): Promise<void> {
    this.leftoversMarked = this.runs.markRunningAsInterrupted(undefined, this.leases.instanceId).then((interrupted) => {
      if (interrupted > 0) this.logger.warn(`marked ${interrupted} unfinished sync run(s) as interrupted`);
    });
    await this.leftoversMarked;
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
   * Fetches every chat and up to `limitPerChat` messages of each (`full`), or only what is missing
   * (`incremental`), stores them, and reports each step as `sync_chats`. One run per session: a
   * trigger while one runs waits for it and gets its result, whatever mode either asked for (the
   * result names the mode that ran).
   */
  async syncChatsWithProgress(sessionId: string, limitPerChat = DEFAULT_LIMIT_PER_CHAT, options: SyncOptions = {}): Promise<SyncResult> {
    const running = this.tracker.get(sessionId);
    // A one-chat sync is no answer to a sync of every chat, nor a run of a client the session has
    // replaced since (stopped and started again): this one starts once it is over.
    if (running && (running.run.kind.chatId !== undefined || running.client !== this.sessions.readyClient(sessionId))) {
      await running.result.catch(() => undefined);
      return this.syncChatsWithProgress(sessionId, limitPerChat, options);
    }
    if (running) return running.result;
    const client = await this.clientForRun(sessionId);
    if (!client) return this.syncChatsWithProgress(sessionId, limitPerChat, options);
    // From the readiness check to the registration nothing awaits: a session deleted or stopped
    // before this line cannot get a run, and one deleted after it waits for the run to end.
    const run = new SyncRun(sessionId, limitPerChat, { mode: options.mode ?? DEFAULT_SYNC_MODE, trigger: options.trigger ?? 'api' }, this.publisher);
    return this.tracker.start(run, client, () => this.execute(run, client, () => this.fetchChats(sessionId, client)));
  }

  /** Synchronizes, then returns the stored chats, newest first. */
  async getChats(sessionId: string, limitPerChat = DEFAULT_LIMIT_PER_CHAT, mode: SyncMode = DEFAULT_SYNC_MODE): Promise<ChatView[]> {
    await this.syncChatsWithProgress(sessionId, limitPerChat, { mode });
    return this.query.storedChats(sessionId);
  }

  /**
   * The same for one chat, found in WhatsApp's chat list first (404 when WhatsApp does not know it,
   * with nothing recorded). A run of its own, after any run of the session already going.
   */
  async syncChat(sessionId: string, chatId: string, mode: SyncMode = DEFAULT_SYNC_MODE, limitPerChat = DEFAULT_LIMIT_PER_CHAT): Promise<ChatSyncResult> {
    for (;;) {
      await this.tracker.get(sessionId)?.result.catch(() => undefined);
      const listing = await this.clientForRun(sessionId);
      if (!listing) continue;
      const listed = await this.fetchChats(sessionId, listing).catch((error: unknown) => {
        throw syncFailureToHttp(error, errorText(error));
      });
      const chat = lastById(listed).find((c) => c.id === chatId);
      if (!chat) throw new NotFoundException(`Chat ${chatId} not found in WhatsApp for session ${sessionId}`);
      // The list was fetched while a run may have started, or the session changed: decide again.
      const client = this.sessions.readyClient(sessionId);
      if (this.tracker.get(sessionId) || client !== listing) continue;
      const run = new SyncRun(sessionId, limitPerChat, { mode, trigger: 'api', chatId }, this.publisher);
      const result = await this.tracker.start(run, client, () => this.execute(run, client, async () => [chat]));
      // The run is `done` with its chat counted failed, as in a run over every chat; the answer of
      // a one-chat sync says that its one chat failed.
      if (run.chatError !== null) throw new BadGatewayException(`Synchronization of chat ${chatId} failed: ${run.chatError}`);
      return {
        success: true,
        chatId,
        messagesSynced: result.messagesSynced,
        mode,
        gap: run.gap,
        skipped: result.chatsSkipped > 0,
        messagesInserted: result.messagesInserted,
        syncId: result.syncId,
        durationMs: result.durationMs,
      };
    }
  }

  /**
   * The client a new run may use: 404 or 409 naming the status (or 503 while shutting down) when
   * there is none; `undefined` when the session became ready meanwhile, to decide again.
   */
  private async clientForRun(sessionId: string): Promise<WhatsappClient | undefined> {
    if (this.shuttingDown) throw syncFailureToHttp(new SyncInterruptedError('the service is shutting down'), 'the service is shutting down');
    const client = this.sessions.readyClient(sessionId);
    if (client) return client;
    await this.sessions.requireReady(sessionId);
    return undefined;
  }

  /** A run from its row to its outcome; a failure as a whole becomes the HTTP error of its cause. */
  private async execute(run: SyncRun, client: WhatsappClient, listChats: () => Promise<WaChat[]>): Promise<SyncResult> {
    const { sessionId } = run;
    await this.leftoversMarked;
    const row = await this.runs.create(sessionId, run.limitPerChat, run.kind).catch((error: unknown) => {
      this.logger.error(`sync not started, its run could not be recorded: ${errorText(error)}`, { sessionId });
      throw syncFailureToHttp(error, `could not record the run: ${errorText(error)}`);
    });
    run.recorded(row);
    const log = { sessionId, syncId: run.syncId };
    this.logger.log(`sync started (${run.mode}, ${run.kind.trigger}, limitPerChat ${run.limitPerChat})`, { ...log, ...(run.kind.chatId ? { chatId: run.kind.chatId } : {}) });
    try {
      await this.syncChats(run, client, listChats);
      const summary = run.complete();
      await this.runs.finish(run.syncId, 'done', run.progress, null, async (manager) => {
        await this.leases.check(manager, sessionId);
        await this.outbox.record(manager, sessionId, 'sync_chats_done', summary);
      });
      const result = run.announceDone();
      this.logger.log(
        `sync done: ${result.chatsProcessed} chats (${result.chatsFailed} failed, ${result.chatsSkipped} skipped, ${result.chatsWithGap} with a gap), ` +
          `${result.messagesSynced} messages (${result.messagesInserted} new) in ${result.durationMs} ms`,
        log,
      );
      // One turn of the event loop: the sockets' writes of the last events complete and what waited
      // behind them is written, so that `sync_chats_done` is on its way before the HTTP answer.
      await nextMacrotask();
      return result;
    } catch (error) {
      const message = errorText(error);
      const status = error instanceof SyncInterruptedError ? 'interrupted' : 'failed';
      // A session stopped, deleted or restarted, or a shutdown, ends a run without a fault.
      const expected = error instanceof SessionNotReadyError || error instanceof SyncInterruptedError;
      this.logger[expected ? 'warn' : 'error'](`sync ${status} at chat ${run.progress.currentChat}/${run.progress.nChats}: ${message}`, log);
      run.failed(status, message);
      await this.recordOutcome(run);
      run.announceFailure();
      await nextMacrotask();
      throw syncFailureToHttp(error, message);
    }
  }

  /**
   * Every chat to fetch, in order: its first event, its fetched messages stored, its second event.
   * Chats ahead of the one being reported are fetched and prepared concurrently, and up to
   * `writeConcurrency(DB_POOL_SIZE)` of them written at once, never two that share a message id (so that such an
   * id is written by each chat in turn, as one chat after another would); the events still report
   * the chats strictly in order, and no write outlives the run.
   */
  private async syncChats(run: SyncRun, client: WhatsappClient, listChats: () => Promise<WaChat[]>): Promise<void> {
    const { sessionId } = run;
    const progressWrite = new Throttle(PROGRESS_WRITE_INTERVAL_MS, async () => {
      if (this.leases.holds(sessionId)) await this.runs.updateProgress(run.syncId, { ...run.progress });
    });
    const progressLog = new Throttle(PROGRESS_LOG_INTERVAL_MS, () => this.logProgress(run));
    // An incremental run reads what is stored while WhatsApp lists the chats.
    const storedRead = run.mode === 'incremental' ? this.storage.storedChats(sessionId, run.kind.chatId === undefined ? null : [run.kind.chatId]) : null;
    storedRead?.catch(() => undefined);
    const chats = lastById(await listChats());
    run.called(1);
    const { work, chatRows } = storedRead ? await this.chatsToCatchUp(run, chats, storedRead) : await this.allChats(run, chats);
    const steps = work.map(() => new Deferred<ChatStep>());
    const writes = new WriteWindow(writeConcurrency(this.config.dbPoolSize));
    let ended = false;
    void this.fetchAndWrite(run, client, work, chatRows, steps, writes, () => ended);
    try {
      for (let index = 0; index < work.length; index++) {
        const { chat } = work[index];
        run.chatStarted(index, chat.id);
        const step = await steps[index].promise;
        run.called(step.fetches);
        if ('fetchError' in step) {
          this.logger.warn(`chat failed: ${step.fetchError}`, { sessionId, syncId: run.syncId, chatId: chat.id });
          run.chatFailed(chat.id, step.fetchError);
        } else {
          if (step.gap) this.logger.warn(`chat ${chat.id}: more than ${this.config.syncCatchupMaxPerChat} new messages, the newest stored, a gap left`, { sessionId, syncId: run.syncId });
          run.chatStored(chat.id, step.written, step.gap);
        }
        await progressWrite.maybe();
        await progressLog.maybe();
      }
      await chatRows;
    } finally {
      ended = true;
      await Promise.all([writes.settled(), chatRows.catch(() => undefined)]);
    }
  }

  /**
   * The run's chats in order: each fetched (ahead, see OrderedPrefetch) and its write started in
   * `writes`; `steps[i]` settles when chat i is stored or failed. Once the run has ended, or the
   * session is no longer ready, nothing more is written and the chats not handed to a write fail.
   */
  private async fetchAndWrite(
    run: SyncRun,
    client: WhatsappClient,
    work: ChatWork[],
    chatRows: Promise<void>,
    steps: Deferred<ChatStep>[],
    writes: WriteWindow,
    ended: () => boolean,
  ): Promise<void> {
    const { sessionId } = run;
    const mayWrite = () => {
      if (ended()) throw new SyncInterruptedError('the run has ended');
      this.assertStillReady(sessionId, client);
    };
    const pipeline = new OrderedPrefetch(work, this.config.syncFetchConcurrency, (item: ChatWork) =>
      this.fetchAndPrepare(sessionId, client, item, run.limitPerChat),
    );
    let index = 0;
    try {
      for (; index < work.length; index++) {
        mayWrite();
        const outcome = await pipeline.take(index);
        // Deleted, stopped or shutting down while this chat was fetched: nothing more is written.
        mayWrite();
        const step = steps[index];
        if ('fetchError' in outcome) {
          step.resolve(outcome);
          continue;
        }
        const { prepared, gap, fetches } = outcome;
        // Messages are written into stored chat rows.
        await chatRows;
        const { done } = await writes.start(prepared.ids, mayWrite, () => this.storage.writeMessages(prepared));
        done.then((written) => step.resolve({ written, gap, fetches }), (error: unknown) => step.reject(error));
      }
    } catch (error) {
      for (; index < work.length; index++) steps[index].reject(error);
    }
  }

  /** A full run: the chat list is announced, every chat row upserted, every chat fetched. */
  private async allChats(run: SyncRun, chats: WaChat[]): Promise<RunWork> {
    run.listed(chats.length);
    await this.storage.saveChats(run.sessionId, chats);
    return { work: chats.map((chat) => ({ chat, stored: null })), chatRows: Promise.resolve() };
  }

  /**
   * An incremental run: the chats unchanged since (by the stored chats and their newest messages,
   * read while WhatsApp listed the chats) are skipped, and only the others announced. The chat rows
   * that differ from the listing are upserted meanwhile, while the first fetches go (`chatRows`:
   * awaited before any message write).
   */
  private async chatsToCatchUp(run: SyncRun, chats: WaChat[], storedRead: Promise<Map<string, StoredChat>>): Promise<RunWork> {
    const stored = await storedRead;
    const work: ChatWork[] = [];
    for (const chat of chats) {
      // An id that cannot be stored has no entry: it is fetched, and fails as in a full run.
      const newest = stored.get(pgSafeText(chat.id))?.newest ?? null;
      if (!isUnchanged(chat, newest)) work.push({ chat, stored: newest });
    }
    run.listed(work.length, chats.length - work.length);
    const chatRows = this.storage.saveChangedChats(run.sessionId, chats, stored);
    chatRows.catch(() => undefined);
    return { work, chatRows };
  }

  private async fetchChats(sessionId: string, client: WhatsappClient): Promise<WaChat[]> {
    try {
      return await client.getChats();
    } catch (error) {
      this.assertStillReady(sessionId, client);
      throw new WhatsappCallError(`could not fetch the chat list: ${errorText(error)}`);
    }
  }

  /**
   * One chat's work ahead of its turn: fetch its messages and prepare their statements. A failed
   * fetch, or an id that cannot be stored, fails this chat alone; a failed write (at its turn) fails
   * the run, since the database is then in question.
   */
  private async fetchAndPrepare(sessionId: string, client: WhatsappClient, { chat, stored }: ChatWork, limit: number): Promise<ChatOutcome> {
    // saveChats left it out: its messages are not fetched either.
    if (!isStorableChatId(chat.id)) return { fetchError: unstorableChatIdText(chat.id), fetches: 0 };
    let fetches = 0;
    const fetch = (n: number) => {
      fetches++;
      return client.fetchMessages(chat.id, n);
    };
    let messages: WaMessage[];
    let gap = false;
    try {
      if (stored === null) {
        messages = await fetch(limit);
      } else {
        ({ messages, gap } = await fetchSinceStored(fetch, stored, limit, this.config.syncCatchupMaxPerChat));
      }
    } catch (error) {
      return { fetchError: errorText(error), fetches };
    }
    // A chat with stored messages is caught up: what is new in it arrived while we were away.
    return { prepared: this.storage.prepareMessages(sessionId, chat.id, messages, stored !== null), gap, fetches };
  }

  /**
   * Writes how a failed run ended. If the database is what failed, the write is retried in the
   * background until it is back; meanwhile `latest` answers from the run in memory.
   */
  private recordOutcome(run: SyncRun): Promise<void> {
    const { syncId, sessionId } = run;
    const status = run.status === 'interrupted' ? 'interrupted' : 'failed';
    const progress = { ...run.progress };
    const failure = run.failurePayload();
    const write = () =>
      this.runs
        .finish(syncId, status, progress, run.error, async (manager) => {
          await this.leases.check(manager, sessionId);
          await this.outbox.record(manager, sessionId, 'sync_chats_failed', failure);
        })
        // The new owner marked the run interrupted when it took the session over.
        .catch((error: unknown) => {
          if (!(error instanceof LeaseLostError)) throw error;
          this.logger.warn(`sync outcome not stored: ${error.message}`, { sessionId, syncId });
        });
    return retryInBackground(write, {
      retries: OUTCOME_RETRIES,
      maxDelayMs: OUTCOME_RETRY_MAX_DELAY_MS,
      stopped: () => this.shuttingDown,
      onRetrying: (error) => this.logger.warn(`sync outcome not stored yet, retrying: ${errorText(error)}`, { sessionId, syncId }),
      onGaveUp: (error) => this.logger.error(`sync outcome not stored: ${errorText(error)}`, { sessionId, syncId }),
    });
  }

  /** The run's session is still ready with the run's client: not deleted, stopped, nor started again since. */
  private assertStillReady(sessionId: string, client: WhatsappClient): void {
    if (this.shuttingDown) throw new SyncInterruptedError('the service is shutting down');
    const status = this.sessions.statusOf(sessionId);
    if (status !== 'ready') throw new SessionNotReadyError(`session ${sessionId} is no longer ready (status: ${status ?? 'deleted'})`);
    if (this.sessions.readyClient(sessionId) !== client) throw new SessionNotReadyError(`session ${sessionId} was stopped and started again during the run`);
    // Ready here, but another instance may own it by now (this process was paused, or cut off).
    if (!this.leases.holds(sessionId)) throw new SyncInterruptedError('this instance no longer owns the session');
  }


  private logProgress(run: SyncRun): void {
    const { currentChat, nChats, messagesSynced, chatsFailed } = run.progress;
    this.logger.log(`sync progress: chat ${currentChat}/${nChats}, ${messagesSynced} messages, ${chatsFailed} failed`, {
      sessionId: run.sessionId,
      syncId: run.syncId,
    });
  }
}
