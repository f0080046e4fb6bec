import { Logger } from '@nestjs/common';
import { rm } from 'node:fs/promises';
import { Client, ClientOptions, Chat, Message, MessageAck, MessageMedia, Reaction, Store } from 'whatsapp-web.js';
import { WwebjsConfig } from '../../../config/app-config';
import { WhatsappClient, WhatsappClientListener } from '../whatsapp-client.port';
import { SessionStatus, WaChat, WaMe, WaMedia, WaMessage } from '../whatsapp.types';
import { mapChat, mapEdit, mapMe, mapMedia, mapMessage, mapReaction, mapRevoke, orderMessages } from './wwebjs-mappers';
import { buildClientOptions, profileDir, remoteSessionName } from './wwebjs-options';
import { errorText } from '../../../common/error-text';
import { withTimeout } from '../../../common/with-timeout';
import { PhoneLogoutWatch, watchPhoneLogout } from './phone-logout';

/** How long a browser gets to close before its process is killed. */
const DESTROY_TIMEOUT_MS = 10_000;
const MAX_RESTART_DELAY_MS = 60_000;
/** How long the library may take over its own logout handling before the browser is closed anyway. */
const LOGOUT_SETTLE_TIMEOUT_MS = 10_000;

/** Builds the library client; a test replaces it to add options (a fake page). */
export type ClientBuilder = (options: ClientOptions) => Client;

/**
 * One WhatsApp account driven by the unmodified whatsapp-web.js in Chromium. Maps the library's
 * events to the service's statuses, bounds every call into the page with a timeout, restarts after
 * an unexpected disconnect with back-off (never after a logout), and always closes its browser.
 */
export class WwebjsWhatsappClient implements WhatsappClient {
  private readonly logger = new Logger(WwebjsWhatsappClient.name);
  private client: Client | undefined;
  private status: SessionStatus = 'stopped';
  private chats = new Map<string, Chat>();
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Set by stop/logout: nothing the old client reports afterwards may restart it. */
  private closing = false;
  private logoutWatch: PhoneLogoutWatch | undefined;

  constructor(
    private readonly sessionId: string,
    private readonly config: WwebjsConfig,
    private readonly listener: WhatsappClientListener,
    private readonly remoteStore: Store | undefined,
    private readonly build: ClientBuilder = (options) => new Client(options),
  ) {}

  async start(): Promise<void> {
    this.closing = false;
    await this.launch();
  }

  async getChats(): Promise<WaChat[]> {
    const client = this.readyClient();
    const chats = await within(client.getChats(), this.config.callTimeoutMs, 'getChats');
    const mapped = chats.map(mapChat);
    this.chats = new Map(mapped.map((chat, i) => [chat.id, chats[i]]));
    return mapped;
  }

  async fetchMessages(chatId: string, limit: number): Promise<WaMessage[]> {
    const client = this.readyClient();
    const timeout = this.config.callTimeoutMs;
    const chat = this.chats.get(chatId) ?? (await within(client.getChatById(chatId), timeout, `getChatById ${chatId}`));
    // A finite limit: the options are JSON-serialized into the page, where Infinity would become null.
    const messages = await within(chat.fetchMessages({ limit: Math.max(1, Math.trunc(limit)) }), timeout, `fetchMessages ${chatId}`);
    return orderMessages(messages.map(mapMessage));
  }

  /**
   * The library's own download: the message found by id (`getMessageById` also finds one the page
   * has not loaded), then `downloadMedia()`, which answers nothing when the phone no longer has the
   * file and throws when the download failed.
   */
  async downloadMedia(messageId: string): Promise<WaMedia | null> {
    const client = this.readyClient();
    const timeout = this.config.callTimeoutMs;
    const message = await within(client.getMessageById(messageId), timeout, `getMessageById ${messageId}`);
    if (!message) return null;
    // Typed as always answering; at run time it answers `undefined` for media that is gone.
    const media: MessageMedia | undefined = await within(message.downloadMedia(), timeout, `downloadMedia ${messageId}`);
    return mapMedia(media);
  }

  getMe(): WaMe | null {
    return mapMe(this.client?.info);
  }

  async stop(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    await this.teardown();
    this.setStatus('stopped');
  }

  async logout(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    const client = this.client;
    if (client && this.status === 'ready') {
      // The page reloads after its logout; the library's re-injection into it would race the close.
      detachNavigation(client);
      // Logs out in the page (the phone's linked device disappears), closes the browser, deletes the login.
      await within(client.logout(), DESTROY_TIMEOUT_MS, 'logout').catch((error: unknown) =>
        this.logger.warn(`logout in the page failed: ${errorText(error)}`, { sessionId: this.sessionId }),
      );
    }
    await this.teardown();
    await this.forgetLogin();
    this.setStatus('stopped');
  }

  private async launch(): Promise<void> {
    this.setStatus('starting');
    let client: Client;
    let logoutWatch: PhoneLogoutWatch;
    try {
      const options = buildClientOptions(this.sessionId, this.config, this.remoteStore);
      logoutWatch = watchPhoneLogout(options.authStrategy!);
      client = this.build(options);
    } catch (error) {
      this.setStatus('failed', errorText(error));
      return;
    }
    this.client = client;
    this.logoutWatch = logoutWatch;
    this.subscribe(client);
    try {
      // Resolves once the page shows a QR or restores the login; `ready` comes later as an event.
      await client.initialize();
    } catch (error) {
      if (this.client !== client || this.closing) return;
      this.logger.error(`WhatsApp Web did not start: ${errorText(error)}`, { sessionId: this.sessionId });
      await this.teardown();
      this.setStatus('failed', `WhatsApp Web did not start: ${errorText(error)}`);
    }
  }

  private subscribe(client: Client): void {
    const current = () => this.client === client && !this.closing;
    client.on('qr', (qr: string) => {
      if (!current()) return;
      this.listener.onQr(qr);
      this.setStatus('qr');
    });
    client.on('authenticated', () => current() && this.setStatus('authenticated'));
    client.on('auth_failure', (message: string) => current() && this.setStatus('failed', `Authentication failed: ${message}`));
    // `ready` starts the automatic catch-up, so it must follow WhatsApp's own offline delivery
    // (`loading_screen` up to 100). The library emits `ready` on WhatsApp Web's `hasSynced`, which
    // comes after that delivery; should a delivery still be in progress, the status waits for its
    // 100, at most the start timeout.
    let offlinePercent = 100;
    let readyWaiting: (() => void) | undefined;
    client.on('loading_screen', (percent: number) => {
      offlinePercent = Number(percent);
      if (offlinePercent >= 100) readyWaiting?.();
    });
    client.on('ready', () => {
      if (!current()) return;
      const becomeReady = () => {
        readyWaiting = undefined;
        clearTimeout(timer);
        if (!current()) return;
        this.restarts = 0;
        this.setStatus('ready');
      };
      let timer: NodeJS.Timeout | undefined;
      if (offlinePercent >= 100) return becomeReady();
      readyWaiting = becomeReady;
      timer = setTimeout(becomeReady, this.config.startTimeoutMs).unref();
    });
    client.on('disconnected', (reason: string) => current() && void this.onDisconnected(String(reason)));
    client.on('message_create', (message: Message) => {
      if (current() && this.status === 'ready') this.listener.onMessage(mapMessage(message));
    });
    client.on('message_ack', (message: Message, ack: MessageAck) => {
      if (!current()) return;
      const mapped = mapMessage(message);
      this.listener.onMessageAck(mapped.id, mapped.chatId, Number(ack));
    });
    client.on('message_edit', (message: Message, newBody: unknown) => {
      const edit = current() ? mapEdit(message, newBody, nowSeconds()) : undefined;
      if (edit) this.listener.onMessageEdit(edit);
    });
    client.on('message_revoke_everyone', (message: Message) => {
      const revoke = current() ? mapRevoke(message, nowSeconds()) : undefined;
      if (revoke) this.listener.onMessageRevoke(revoke);
    });
    client.on('message_reaction', (reaction: Reaction) => {
      const mapped = current() ? mapReaction(reaction) : undefined;
      if (mapped) this.listener.onMessageReaction(mapped);
    });
  }

  private async onDisconnected(reason: string): Promise<void> {
    this.logger.warn(`disconnected: ${reason}`, { sessionId: this.sessionId });
    if (reason === 'LOGOUT') {
      // The phone removed this device: the login is gone, a restart would only show a new QR.
      const client = this.client;
      this.closing = true; // what the old client reports from now on (its `auth_failure`) changes nothing
      this.setStatus('disconnected', 'LOGOUT: logged out from the phone');
      // The library deletes and re-creates the profile folder, then closes its browser (see
      // phone-logout.ts); let it finish first.
      await within(this.logoutWatch?.settled() ?? Promise.resolve(), LOGOUT_SETTLE_TIMEOUT_MS, 'logout handling').catch(() => undefined);
      if (this.client && this.client !== client) return; // started again meanwhile: that login is not this one's
      await this.teardown();
      await this.forgetLogin();
      return;
    }
    if (this.restarts >= this.config.maxRestarts) {
      this.setStatus('failed', `Disconnected (${reason}); gave up after ${this.restarts} restart(s)`);
      await this.teardown();
      return;
    }
    const delay = Math.min(this.config.restartBaseDelayMs * 2 ** this.restarts, MAX_RESTART_DELAY_MS);
    this.restarts++;
    this.setStatus('disconnected', `${reason}; restart ${this.restarts}/${this.config.maxRestarts} in ${delay} ms`);
    await this.teardown();
    this.restartTimer = setTimeout(() => {
      if (!this.closing) void this.launch();
    }, delay);
  }

  /** Closes the browser; kills its process if closing hangs. Never throws. */
  private async teardown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.chats = new Map();
    if (!client) return;
    client.removeAllListeners();
    detachNavigation(client);
    try {
      await within(client.destroy(), DESTROY_TIMEOUT_MS, 'closing the browser');
    } catch (error) {
      this.logger.warn(`browser did not close cleanly (${errorText(error)}); killing it`, { sessionId: this.sessionId });
      client.pupBrowser?.process()?.kill('SIGKILL');
    }
  }

  /** Deletes the stored login, whether or not a client is running. */
  private async forgetLogin(): Promise<void> {
    try {
      const profile = profileDir(this.sessionId, this.config);
      if (this.config.authStore === 'postgres') {
        await this.remoteStore?.delete({ session: remoteSessionName(this.sessionId) });
        await rm(`${profile}.zip`, { force: true });
      }
      await rm(profile, { recursive: true, force: true });
    } catch (error) {
      this.logger.warn(`login not fully removed: ${errorText(error)}`, { sessionId: this.sessionId });
    }
  }

  private readyClient(): Client {
    if (this.status !== 'ready' || !this.client) throw new Error(`Session ${this.sessionId} is ${this.status}`);
    return this.client;
  }

  private setStatus(status: SessionStatus, detail?: string): void {
    this.status = status;
    this.listener.onStatus(status, detail);
  }
}

/**
 * Removes the library's page `framenavigated` handler (puppeteer's public `Page` API): about to close
 * the browser, no navigation may start a re-injection whose page calls the close would fail.
 */
function detachNavigation(client: Client): void {
  client.pupPage?.removeAllListeners('framenavigated');
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** whatsapp-web.js calls have no time limit of their own (a `fetchMessages` has hung for ever): a hang becomes an error. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return withTimeout(promise, ms, `${what} timed out after ${ms} ms`);
}
