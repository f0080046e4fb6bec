import { BeforeApplicationShutdown, ConflictException, Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { toDataURL } from 'qrcode';
import { WhatsappClient, WhatsappClientFactory, WhatsappClientListener } from '../client/whatsapp-client.port';
import { SESSION_STATUSES, SessionStatus, WaMessage } from '../client/whatsapp.types';
import { ChangeResult, WhatsappStorageService } from '../whatsapp-storage.service';
import { EventPublisher } from '../event-publisher';
import { EVENT_OUTBOX, EventOutbox } from '../event-outbox';
import { SessionStatusPayload } from '../events';
import { SyncTracker } from '../sync/sync-tracker';
import { LiveSession, SessionRegistry } from './session-registry';
import { SessionView, toSessionView } from './session.view';
import { SessionRepository } from './session.repository';
import { errorText } from '../../common/error-text';
import { SessionLeaseService } from '../../instances/session-lease.service';
import { SyncRunRepository } from '../sync/sync-run.repository';
import { LeaseLostError } from './session-fence';

/** How long a shutdown waits for running syncs to record their end before it closes the clients. */
const SHUTDOWN_SYNC_WAIT_MS = 5000;

/** Statuses in which a client is alive; `start` returns such a session as it is. */
const ACTIVE: ReadonlySet<SessionStatus> = new Set(['starting', 'qr', 'authenticated', 'ready']);

/**
 * Session lifecycle over the WhatsApp port: start, stop, logout, and what a client reports (status,
 * QR, live messages), kept in memory for the sockets and in PostgreSQL for restarts.
 */
@Injectable()
export class SessionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SessionService.name);
  /** Status writes of one session run one after another, so the row ends with the last status. */
  private readonly writes = new Map<string, Promise<void>>();
  /** Live messages and message changes being stored, per session: a delete waits for them before it purges. */
  private readonly liveWrites = new Map<string, Set<Promise<void>>>();
  /** Sessions whose delete is under way: a start meanwhile could write what the purge just removed. */
  private readonly deleting = new Set<string>();
  /** Starts under way: a second start of the same session joins the first (one client, one lease claim). */
  private readonly starting = new Map<string, Promise<SessionView>>();
  private shuttingDown = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clients: WhatsappClientFactory,
    private readonly registry: SessionRegistry,
    private readonly sessions: SessionRepository,
    private readonly storage: WhatsappStorageService,
    private readonly publisher: EventPublisher,
    private readonly syncs: SyncTracker,
    @Inject(EVENT_OUTBOX) private readonly outbox: EventOutbox,
    private readonly leases: SessionLeaseService,
    private readonly runs: SyncRunRepository,
  ) {
    // A lease lost (this process paused past its TTL, or cut off from the database): the session is
    // another instance's now, or nobody's; its client stops here and writes nothing more.
    leases.onLost((sessionId) => this.abandon(sessionId));
  }

  /**
   * No client survives a restart. Sessions that were logged in are started again (their stored login
   * skips the QR); the others are shown as stopped. With RESTORE_SESSIONS=false the logged-in ones
   * are `stopped` in this process only: their rows keep their status, so the next start restores them.
   */
  async onApplicationBootstrap(): Promise<void> {
    // Sessions that another live instance runs are left alone: their rows are that instance's to write.
    const leases = await this.leases.all();
    const elsewhere = new Set(leases.filter((lease) => !lease.free && lease.owner !== this.leases.instanceId).map((lease) => lease.sessionId));
    const rows = (await this.sessions.list()).filter((row) => !elsewhere.has(row.sessionId));
    const loggedIn = rows.filter((row) => row.status === 'ready' || row.status === 'authenticated');
    const restore = this.config.restoreSessions ? loggedIn : [];
    const stopped = await this.sessions.markLiveAsStopped([...loggedIn.map((row) => row.sessionId), ...elsewhere]);
    if (stopped > 0) this.logger.log(`marked ${stopped} session(s) that were not logged in as stopped`);
    for (const row of this.config.restoreSessions ? [] : loggedIn) {
      // Not restored, so not taken over either: the lease its last run left is given up.
      await this.leases.dropFree(row.sessionId);
      this.registry.set(row.sessionId, withoutClient(row.sessionId, this.clients, 'was not restored at start (RESTORE_SESSIONS=false)'));
      this.logger.log('not restored (RESTORE_SESSIONS=false): stopped until started, restored by the next start', { sessionId: row.sessionId });
    }
    for (const row of restore) {
      this.logger.log('restoring the login it had when the service stopped', { sessionId: row.sessionId });
      // In the background: a slow browser must not hold up the start of the HTTP server.
      this.start(row.sessionId).catch((error: unknown) => this.logger.error(`restore failed: ${errorText(error)}`, { sessionId: row.sessionId }));
    }
  }

  async start(sessionId: string): Promise<SessionView> {
    if (this.deleting.has(sessionId)) throw new ConflictException(`Session ${sessionId} is being deleted`);
    const current = this.registry.get(sessionId);
    if (current && ACTIVE.has(current.status)) return this.get(sessionId);
    const under = this.starting.get(sessionId);
    if (under) return under;
    const started = this.claimAndStart(sessionId).finally(() => this.starting.delete(sessionId));
    this.starting.set(sessionId, started);
    return started;
  }

  /**
   * Starts the session's client once this instance holds its lease. A lease newly claimed may come
   * from an instance that died: a run it left `running` is over, and marked so before ours begin.
   */
  private async claimAndStart(sessionId: string): Promise<SessionView> {
    // In the registry at once, `stopped` with no client yet: a socket that joins meanwhile is told
    // that, not the status a previous run left in the row. `starting` once the lease is claimed.
    const entry: LiveSession = withoutClient(sessionId, this.clients, 'its lease is being claimed');
    this.registry.set(sessionId, entry);
    try {
      const heldBefore = this.leases.holds(sessionId);
      if (!(await this.leases.claim(sessionId))) {
        const owner = await this.leases.ownerOf(sessionId);
        throw new ConflictException(`Session ${sessionId} is run by instance ${owner?.owner ?? 'another instance'}`);
      }
      if (!heldBefore) {
        const interrupted = await this.runs.markRunningAsInterrupted(sessionId);
        if (interrupted > 0) this.logger.warn(`marked ${interrupted} run(s) of the previous owner as interrupted`, { sessionId });
      }
      if (this.deleting.has(sessionId) || this.shuttingDown) throw new ConflictException(`Session ${sessionId} is ${this.shuttingDown ? 'not started: the service is shutting down' : 'being deleted'}`);
      if (this.registry.get(sessionId) !== entry) throw new ConflictException(`Session ${sessionId} was deleted while it started`);
    } catch (error) {
      if (this.registry.get(sessionId) === entry) this.registry.delete(sessionId);
      // A lease claimed for a start that does not happen is given up (a no-op when it was not claimed).
      await this.leases.release(sessionId).catch(() => undefined);
      throw error;
    }
    entry.client = this.clients.create(sessionId, this.listenerFor(sessionId, entry));
    this.changeStatus(sessionId, entry, 'starting');
    await this.writes.get(sessionId);
    this.logger.log(`starting (provider ${this.clients.provider})`, { sessionId });
    try {
      await entry.client.start();
    } catch (error) {
      this.changeStatus(sessionId, entry, 'failed', errorText(error));
    }
    await this.writes.get(sessionId);
    return this.get(sessionId);
  }

  async get(sessionId: string): Promise<SessionView> {
    const [row, owner] = await Promise.all([this.sessions.find(sessionId), this.leases.ownerOf(sessionId)]);
    const live = this.registry.get(sessionId);
    if (!row && !live) throw new NotFoundException(`Session ${sessionId} not found`);
    return toSessionView(sessionId, row, live, owner?.owner ?? null);
  }

  async list(): Promise<SessionView[]> {
    const [rows, leases] = await Promise.all([this.sessions.list(), this.leases.all()]);
    const owners = new Map(leases.filter((lease) => !lease.free).map((lease) => [lease.sessionId, lease.owner]));
    return rows.map((row) => toSessionView(row.sessionId, row, this.registry.get(row.sessionId), owners.get(row.sessionId) ?? null));
  }

  /** The status in the session's row (what its owner last wrote), or `undefined` without a row. */
  async storedStatus(sessionId: string): Promise<SessionStatus | undefined> {
    return (await this.sessions.find(sessionId))?.status;
  }

  /**
   * A session whose owner died before it was logged in: nobody runs it now. Its lease is dropped and
   * its row shown stopped (the next start begins with a QR, as a start after a restart would).
   */
  async abandonedElsewhere(sessionId: string): Promise<void> {
    if (this.registry.get(sessionId)) return;
    await this.leases.dropFree(sessionId);
    const status = await this.storedStatus(sessionId);
    if (status === undefined || status === 'stopped' || status === 'failed') return;
    await this.sessions.save(sessionId, 'stopped', null, undefined, (manager) => this.outbox.record(manager, sessionId, 'session_status', { sessionId, status: 'stopped' }));
    this.publisher.publish(sessionId, 'session_status', { sessionId, status: 'stopped' });
    this.logger.log(`its owner is gone and it was not logged in: stopped`, { sessionId });
  }

  /** Throws 404 for a session never started, and nothing otherwise. */
  async assertKnown(sessionId: string): Promise<void> {
    if (!this.registry.get(sessionId) && !(await this.sessions.find(sessionId))) {
      throw new NotFoundException(`Session ${sessionId} not found`);
    }
  }

  /** The client of a `ready` session, read synchronously (no await between a check and its use). */
  readyClient(sessionId: string): WhatsappClient | undefined {
    const live = this.registry.get(sessionId);
    return live?.status === 'ready' ? live.client : undefined;
  }

  /** The client of a `ready` session: 404 unknown, 409 naming the status otherwise. */
  async requireReady(sessionId: string): Promise<WhatsappClient> {
    const live = this.registry.get(sessionId);
    if (live?.status === 'ready') return live.client;
    const status = live?.status ?? (await this.sessions.find(sessionId))?.status;
    if (!status) throw new NotFoundException(`Session ${sessionId} not found`);
    throw new ConflictException(`Session ${sessionId} is not ready (status: ${status})`);
  }

  /** Whether the session is still `ready`: a sync checks this between chats. */
  /** How many of this process's sessions are in each status. */
  countByStatus(): Record<SessionStatus, number> {
    const counts = Object.fromEntries(SESSION_STATUSES.map((status) => [status, 0])) as Record<SessionStatus, number>;
    for (const [, session] of this.registry.all()) counts[session.status]++;
    return counts;
  }

  statusOf(sessionId: string): SessionStatus | undefined {
    return this.registry.get(sessionId)?.status;
  }

  async qr(sessionId: string): Promise<{ qr: string; dataUrl: string }> {
    const view = await this.get(sessionId);
    const pending = this.registry.get(sessionId)?.qr;
    if (view.status !== 'qr' || !pending) {
      throw new ConflictException(`Session ${sessionId} is not waiting for a QR scan (status: ${view.status})`);
    }
    return pending;
  }

  async stop(sessionId: string): Promise<SessionView> {
    await this.assertKnown(sessionId);
    const live = this.registry.get(sessionId);
    if (live && live.status !== 'stopped') {
      await live.client.stop();
      this.changeStatus(sessionId, live, 'stopped');
      await this.writes.get(sessionId);
      await this.leases.release(sessionId);
    } else {
      // No client here (never started in this process, or not restored): the row says so, and a
      // later start with RESTORE_SESSIONS=true does not bring it back.
      await this.sessions.save(sessionId, 'stopped', null, undefined, (manager) => this.outbox.record(manager, sessionId, 'session_status', { sessionId, status: 'stopped' }));
    }
    await this.writes.get(sessionId);
    this.logger.log('stopped', { sessionId });
    return this.get(sessionId);
  }

  /**
   * Logs out and forgets the session; `purge` also deletes its stored chats, messages and runs. A
   * running sync is stopped first and its writes awaited, so that nothing of the session is written
   * after the answer.
   */
  async delete(sessionId: string, purge: boolean): Promise<{ sessionId: string; deleted: true; purged: boolean }> {
    await this.assertKnown(sessionId);
    if (this.deleting.has(sessionId)) throw new ConflictException(`Session ${sessionId} is being deleted`);
    this.deleting.add(sessionId);
    try {
      const live = this.registry.get(sessionId);
      // Forget the session first: a sync stops at its next chat, no new one starts, and what the
      // client reports while logging out is ignored.
      this.registry.delete(sessionId);
      await this.syncs.get(sessionId)?.result.catch(() => undefined);
      const client = live?.client ?? this.clients.create(sessionId, IGNORE_EVENTS);
      await client.logout().catch((error: unknown) => this.logger.warn(`logout: ${errorText(error)}`, { sessionId }));
      await this.writes.get(sessionId);
      await Promise.allSettled([...(this.liveWrites.get(sessionId) ?? [])]);
      await this.sessions.delete(sessionId, (manager) => this.outbox.record(manager, sessionId, 'session_status', { sessionId, status: 'stopped' }));
      await this.leases.release(sessionId);
      if (purge) await this.storage.purgeSession(sessionId);
      this.syncs.forget(sessionId);
      // A dashboard in the room stops showing the session as it was; a join from now on is refused.
      this.publisher.publish(sessionId, 'session_status', { sessionId, status: 'stopped' });
      this.logger.log(`deleted${purge ? ' with its stored data' : ''}`, { sessionId });
      return { sessionId, deleted: true, purged: purge };
    } finally {
      this.deleting.delete(sessionId);
    }
  }

  /**
   * Closes every client once the running syncs have recorded their end (bounded), while the
   * database is still open; their rows keep the last status so that a restart, or the instance that
   * takes the sessions over, can tell what was live.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.race([Promise.allSettled(this.syncs.allRunning()), delay(SHUTDOWN_SYNC_WAIT_MS, undefined, { ref: false })]);
    const live = [...this.registry.all()];
    await Promise.allSettled(live.map(([, session]) => session.client.stop()));
    // What the clients reported before they stopped is stored before the database closes.
    await Promise.allSettled([...this.writes.values(), ...[...this.liveWrites.values()].flatMap((writes) => [...writes])]);
    // Then the sessions are handed over: their leases end now, and another instance takes them at once.
    const handed = await this.leases.handOver().catch((error: unknown) => {
      this.logger.warn(`leases not handed over (they expire by themselves): ${errorText(error)}`);
      return [];
    });
    if (handed.length > 0) this.logger.log(`handed over ${handed.length} session lease(s)`);
  }

  /**
   * The lease is lost: the client stops without a word to the database or the sockets (the new
   * owner reports the session from now on), and its events are ignored from this moment.
   */
  private abandon(sessionId: string): void {
    const live = this.registry.get(sessionId);
    if (!live) return;
    this.registry.delete(sessionId);
    this.syncs.forget(sessionId);
    live.client.stop().then(
      () => this.logger.log('client stopped: the lease was lost', { sessionId }),
      (error: unknown) => this.logger.warn(`client stop after the lease was lost: ${errorText(error)}`, { sessionId }),
    );
  }

  private listenerFor(sessionId: string, entry: LiveSession): WhatsappClientListener {
    const current = () => !this.shuttingDown && this.registry.get(sessionId) === entry && this.leases.holds(sessionId);
    return {
      onStatus: (status, detail) => current() && this.changeStatus(sessionId, entry, status, detail),
      onQr: (qr) => current() && this.publishQr(sessionId, entry, qr),
      onMessage: (message) => current() && this.storeLiveMessage(sessionId, message),
      onMessageAck: (messageId, chatId, ack) =>
        current() && this.storeChange(sessionId, messageId, 'ack', this.storage.updateMessageAck(sessionId, messageId, chatId, ack)),
      onMessageEdit: (edit) => current() && this.storeChange(sessionId, edit.messageId, 'edit', this.storage.applyEdit(sessionId, edit)),
      onMessageRevoke: (revoke) => current() && this.storeChange(sessionId, revoke.messageId, 'deletion', this.storage.applyRevoke(sessionId, revoke)),
      onMessageReaction: (reaction) => current() && this.storeChange(sessionId, reaction.messageId, 'reaction', this.storage.applyReaction(sessionId, reaction)),
    };
  }

  private changeStatus(sessionId: string, entry: LiveSession, status: SessionStatus, detail?: string): void {
    if (entry.status === status && entry.error === detail) return;
    entry.status = status;
    entry.error = status === 'failed' || status === 'disconnected' ? detail : undefined;
    if (status !== 'qr') entry.qr = undefined;
    this.logger.log(`status ${status}${detail ? ` (${detail})` : ''}`, { sessionId });
    this.publisher.publish(sessionId, 'session_status', { sessionId, status, ...(entry.error ? { error: entry.error } : {}) });
    const me = status === 'ready' ? entry.client.getMe() : undefined;
    if (me !== undefined) entry.me = me;
    const payload: SessionStatusPayload = { sessionId, status, ...(entry.error ? { error: entry.error } : {}) };
    this.enqueueWrite(sessionId, () =>
      this.sessions.save(sessionId, status, entry.error ?? null, me, async (manager) => {
        await this.leases.check(manager, sessionId);
        await this.outbox.record(manager, sessionId, 'session_status', payload);
      }),
    );
  }

  private publishQr(sessionId: string, entry: LiveSession, qr: string): void {
    const pending = toDataURL(qr, { type: 'image/png', margin: 1, width: 300 }).then((dataUrl) => ({ qr, dataUrl }));
    entry.qr = pending;
    pending.then(
      (payload) => entry.qr === pending && this.publisher.publish(sessionId, 'qr', { sessionId, ...payload }),
      (error: unknown) => this.logger.error(`QR image failed: ${errorText(error)}`, { sessionId }),
    );
  }

  private storeLiveMessage(sessionId: string, message: WaMessage): void {
    const write = this.storage.saveLiveMessage(sessionId, message).then(
      (stored) => {
        if (stored) this.publisher.publish(sessionId, 'message', { sessionId, message: stored });
      },
      (error: unknown) => this.logger.error(`live message not stored: ${errorText(error)}`, { sessionId, chatId: message.chatId, messageId: message.id }),
    );
    this.trackLiveWrite(sessionId, write);
  }

  /**
   * A live change being stored: once it changed a stored message, `message_update` carries the
   * message's whole view. A change for a message not stored yet is kept (`pending`) and shows in the
   * message once it arrives; one that changed nothing (a repeated ack) publishes nothing.
   */
  private storeChange(sessionId: string, messageId: string, what: string, stored: Promise<ChangeResult>): void {
    const write = stored.then(
      ({ outcome, message }) => {
        if (outcome === 'pending') this.logger.debug(`${what} of ${messageId} kept until the message is stored`, { sessionId });
        if (message) this.publisher.publish(sessionId, 'message_update', { sessionId, message });
      },
      (error: unknown) => this.logger.error(`${what} of ${messageId} not stored: ${errorText(error)}`, { sessionId }),
    );
    this.trackLiveWrite(sessionId, write);
  }

  private trackLiveWrite(sessionId: string, write: Promise<void>): void {
    let pending = this.liveWrites.get(sessionId);
    if (!pending) this.liveWrites.set(sessionId, (pending = new Set()));
    pending.add(write);
    void write.finally(() => {
      pending.delete(write);
      if (pending.size === 0 && this.liveWrites.get(sessionId) === pending) this.liveWrites.delete(sessionId);
    });
  }

  private enqueueWrite(sessionId: string, write: () => Promise<void>): void {
    const previous = this.writes.get(sessionId) ?? Promise.resolve();
    const next = previous.then(write).catch((error: unknown) => {
      if (error instanceof LeaseLostError) this.logger.warn(`status not stored: ${error.message}`, { sessionId });
      else this.logger.error(`status not stored: ${errorText(error)}`, { sessionId });
    });
    this.writes.set(sessionId, next);
  }
}

const IGNORE_EVENTS: WhatsappClientListener = {
  onStatus: () => undefined,
  onQr: () => undefined,
  onMessage: () => undefined,
  onMessageAck: () => undefined,
  onMessageEdit: () => undefined,
  onMessageRevoke: () => undefined,
  onMessageReaction: () => undefined,
};

/**
 * A session `stopped` in this process with no client: a logged-in one that this start did not
 * restore (RESTORE_SESSIONS=false; its row keeps its status for the next start), or one whose start
 * is claiming its lease. `start` gives it a real client; a logout (DELETE) goes through a client of
 * its own.
 */
function withoutClient(sessionId: string, clients: WhatsappClientFactory, why: string): LiveSession {
  const noClient = () => Promise.reject(new Error(`session ${sessionId} has no client: it ${why}`));
  return {
    status: 'stopped',
    client: {
      start: noClient,
      getChats: noClient,
      fetchMessages: noClient,
      getMe: () => null,
      stop: async () => undefined,
      logout: () => clients.create(sessionId, IGNORE_EVENTS).logout(),
    },
  };
}
