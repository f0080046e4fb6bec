import { Client } from 'whatsapp-web.js';
import type { Store } from 'whatsapp-web.js';
import { WwebjsConfig } from '../../src/config/app-config';
import { WhatsappClientFactory, WhatsappClientListener } from '../../src/whatsapp/client/whatsapp-client.port';
import { WaMedia, WaMessage } from '../../src/whatsapp/client/whatsapp.types';
import { SimulatedAccount } from '../../src/whatsapp/client/simulated/simulated-account';
import { SimulatedLoginStore, SimulatedWhatsappClient } from '../../src/whatsapp/client/simulated/simulated-whatsapp.client';
import { WwebjsWhatsappClient } from '../../src/whatsapp/client/wwebjs/wwebjs-whatsapp.client';

/*
 * Client factories for tests, passed to the app as `createApp`'s `clientFactory`: they create the
 * production clients and keep what a test needs to reach them.
 */

/** Lets tests hold a fetch at a known point (a join mid-run, a stop mid-run) instead of sleeping. */
export type FetchHook = (sessionId: string, chatId: string) => Promise<void> | void;

/** Lets tests hold or fail a media download at a known point; what it answers (when not undefined) replaces the account's. */
export type DownloadHook = (sessionId: string, messageId: string) => Promise<WaMedia | null | undefined> | WaMedia | null | undefined;

/** A simulated client that awaits its factory's `beforeFetch` once a fetch is accepted (and `beforeDownload` before a media download). */
export class HookedSimulatedClient extends SimulatedWhatsappClient {
  constructor(
    sessionId: string,
    accountOf: () => SimulatedAccount,
    private readonly reportsTo: WhatsappClientListener,
    logins: SimulatedLoginStore,
    private readonly beforeFetch: FetchHook,
    private readonly beforeDownload: DownloadHook = () => undefined,
  ) {
    super(sessionId, accountOf, reportsTo, logins);
  }

  override async downloadMedia(messageId: string): Promise<WaMedia | null> {
    this.assertReady();
    const answer = await this.beforeDownload(this.sessionId, messageId);
    return answer === undefined ? super.downloadMedia(messageId) : answer;
  }

  /**
   * Reports a message change (edit, deletion, reaction, ack) as a provider would, while ready, and
   * leaves the account as it is: the message may not be stored yet, and a sync fetches it unchanged.
   */
  report(change: (listener: WhatsappClientListener) => void): void {
    this.assertReady();
    change(this.reportsTo);
  }

  override async fetchMessages(chatId: string, limit: number): Promise<WaMessage[]> {
    // A fetch that a session not ready refuses never reaches the hook.
    this.assertReady();
    await this.beforeFetch(this.sessionId, chatId);
    return super.fetchMessages(chatId, limit);
  }
}

/**
 * Simulated clients sharing one account, which a test may replace between two syncs, and one login
 * store; remembers the latest client of each session so that a test can scan, disconnect or send.
 */
export class SimulatedTestClientFactory extends WhatsappClientFactory {
  readonly provider = 'simulated';
  /** Awaited before each message fetch of every client (see `HookedSimulatedClient`). */
  beforeFetch: FetchHook | undefined;
  /** Awaited before each media download of every client (see `HookedSimulatedClient`). */
  beforeDownload: DownloadHook | undefined;
  private readonly logins = new Set<string>();
  private readonly clients = new Map<string, HookedSimulatedClient>();

  constructor(public account: SimulatedAccount) {
    super();
  }

  create(sessionId: string, listener: WhatsappClientListener): HookedSimulatedClient {
    const client = new HookedSimulatedClient(
      sessionId,
      () => this.account,
      listener,
      this.logins,
      (s, c) => this.beforeFetch?.(s, c),
      (s, m) => this.beforeDownload?.(s, m),
    );
    this.clients.set(sessionId, client);
    return client;
  }

  /** The latest client created for a session. */
  clientOf(sessionId: string): HookedSimulatedClient | undefined {
    return this.clients.get(sessionId);
  }
}

/**
 * whatsapp-web.js clients as production makes them, each library `Client` remembered by session so
 * that a test can drive the fake page (`pupPage`) or the auth strategy.
 */
export class WwebjsTestClientFactory extends WhatsappClientFactory {
  readonly provider = 'wwebjs';
  private readonly libraryClients = new Map<string, Client>();
  private readonly libraryEvents = new Map<string, string[]>();

  constructor(
    private readonly config: WwebjsConfig,
    private readonly remoteStore: Store | undefined,
  ) {
    super();
  }

  create(sessionId: string, listener: WhatsappClientListener): WwebjsWhatsappClient {
    return new WwebjsWhatsappClient(sessionId, this.config, listener, this.remoteStore, (options) => {
      const library = new Client(options);
      this.libraryClients.set(sessionId, library);
      // Subscribed before the adapter's own listeners, so each entry precedes what the adapter does with it.
      const events: string[] = [];
      this.libraryEvents.set(sessionId, events);
      library.on('loading_screen', (percent: number) => events.push(`loading_screen ${percent}`));
      library.on('ready', () => events.push('ready'));
      return library;
    });
  }

  /** What the library client of the session's latest launch emitted so far: `loading_screen <percent>` and `ready`, in order. */
  libraryEventsOf(sessionId: string): string[] {
    return [...(this.libraryEvents.get(sessionId) ?? [])];
  }

  /** The library client the session's latest launch built. */
  libraryClientOf(sessionId: string): Client | undefined {
    return this.libraryClients.get(sessionId);
  }
}
