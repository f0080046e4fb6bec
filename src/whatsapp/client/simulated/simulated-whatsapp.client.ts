import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { WhatsappClient, WhatsappClientListener } from '../whatsapp-client.port';
import { SessionStatus, WaChat, WaMe, WaMedia, WaMessage } from '../whatsapp.types';
import { SimulatedAccount, chatById } from './simulated-account';
import { SimulatedLiveEvent, liveChat, liveMessages, playLiveEvent } from './simulated-live';
import { downloadSimulatedMedia } from './simulated-media';

/**
 * Remembers which simulated sessions have "scanned", as a real provider keeps its login: in memory
 * (a Set), or in PostgreSQL with WA_AUTH_STORE=postgres, where every instance finds it.
 */
export interface SimulatedLoginStore {
  has(sessionId: string): boolean | Promise<boolean>;
  add(sessionId: string): unknown;
  delete(sessionId: string): unknown;
}

/**
 * A WhatsApp account simulated in process. It follows the real lifecycle (starting, qr, then
 * authenticated and ready after a simulated scan) and answers like whatsapp-web.js does.
 */
export class SimulatedWhatsappClient implements WhatsappClient {
  private status: SessionStatus = 'starting';
  private scanTimer: NodeJS.Timeout | undefined;
  /** The account's live traffic, scheduled at the last `ready`. */
  private liveTimers: NodeJS.Timeout[] = [];

  constructor(
    protected readonly sessionId: string,
    /** Read at each call, so a test can change the account between two syncs. */
    private readonly accountOf: () => SimulatedAccount,
    private readonly listener: WhatsappClientListener,
    private readonly logins: SimulatedLoginStore,
  ) {}

  async start(): Promise<void> {
    this.setStatus('starting');
    if (await this.logins.has(this.sessionId)) {
      this.becomeReady();
      return;
    }
    this.listener.onQr(`2@${randomBytes(24).toString('base64')},SIMULATED,${this.sessionId}`);
    this.setStatus('qr');
    this.scanTimer = setTimeout(() => this.scan(), this.accountOf().scanAfterMs);
  }

  /** The phone scanned the QR. */
  scan(): void {
    if (this.status !== 'qr') return;
    const saved = this.logins.add(this.sessionId);
    // A login kept in the database is stored before the session is ready, as whatsapp-web.js's is.
    if (!(saved instanceof Promise)) return this.becomeReady();
    this.status = 'authenticated';
    saved.then(
      () => this.status === 'authenticated' && this.becomeReady(),
      (error: unknown) => this.setStatus('failed', `login not stored: ${(error as Error).message}`),
    );
  }

  async getChats(): Promise<WaChat[]> {
    this.assertReady();
    await this.latency();
    this.assertReady();
    const account = this.accountOf();
    return account.chats.map((c) => liveChat(account, c));
  }

  async fetchMessages(chatId: string, limit: number): Promise<WaMessage[]> {
    this.assertReady();
    await this.latency();
    this.assertReady();
    const account = this.accountOf();
    const chat = chatById(account, chatId);
    if (!chat) throw new Error(`Evaluation failed: chat ${chatId} not found`);
    if (chat.failFetch) throw new Error(`Simulated failure fetching messages of ${chatId}`);
    return liveMessages(account, chat, limit);
  }

  /** The account's media of the message: `null` for a message it has none of (or `expired`), a throw for `failDownload`. */
  async downloadMedia(messageId: string): Promise<WaMedia | null> {
    this.assertReady();
    await this.latency();
    this.assertReady();
    return downloadSimulatedMedia(messageId, this.accountOf().mediaOf?.(messageId));
  }

  getMe(): WaMe | null {
    return this.status === 'ready' || this.status === 'authenticated'
      ? { id: `${this.sessionId.length}0000000000@c.us`, pushName: `Simulated ${this.sessionId}` }
      : null;
  }

  async stop(): Promise<void> {
    clearTimeout(this.scanTimer);
    this.stopLive();
    this.setStatus('stopped');
  }

  async logout(): Promise<void> {
    clearTimeout(this.scanTimer);
    this.stopLive();
    await this.logins.delete(this.sessionId);
    this.setStatus('stopped');
  }

  /** Live traffic: a message arrives (or is sent from the phone) while the session is ready. */
  receiveMessage(message: WaMessage): void {
    this.assertReady();
    this.listener.onMessage(message);
  }

  /** The phone went offline or WhatsApp dropped the connection. */
  disconnect(reason: string): void {
    clearTimeout(this.scanTimer);
    this.stopLive();
    this.setStatus('disconnected', reason);
  }

  private becomeReady(): void {
    this.setStatus('authenticated');
    this.setStatus('ready');
    this.stopLive();
    for (const event of this.accountOf().live ?? []) this.liveTimers.push(setTimeout(() => this.play(event), event.afterMs));
  }

  /** One live event: the account changes, then the client reports it as whatsapp-web.js would. */
  private play(event: SimulatedLiveEvent): void {
    if (this.status !== 'ready') return;
    const played = playLiveEvent(this.accountOf(), event, Math.floor(Date.now() / 1000));
    switch (played?.type) {
      case 'message':
        return this.listener.onMessage(played.message);
      case 'edit':
        return this.listener.onMessageEdit({ messageId: played.messageId, chatId: played.chatId, body: played.body, editedAt: played.editedAt });
      case 'revoke':
        return this.listener.onMessageRevoke({ messageId: played.messageId, chatId: played.chatId, revokedAt: played.revokedAt });
      case 'reaction': {
        const { messageId, chatId, senderId, emoji, timestamp } = played;
        return this.listener.onMessageReaction({ messageId, chatId, senderId, emoji, timestamp });
      }
      case 'ack':
        return this.listener.onMessageAck(played.messageId, played.chatId, played.ack);
    }
  }

  private stopLive(): void {
    for (const timer of this.liveTimers) clearTimeout(timer);
    this.liveTimers = [];
  }

  private setStatus(status: SessionStatus, detail?: string): void {
    this.status = status;
    this.listener.onStatus(status, detail);
  }

  protected assertReady(): void {
    if (this.status !== 'ready') throw new Error(`Session ${this.sessionId} is ${this.status}`);
  }

  private async latency(): Promise<void> {
    const { fetchLatencyMs } = this.accountOf();
    if (fetchLatencyMs > 0) await delay(fetchLatencyMs);
  }
}
