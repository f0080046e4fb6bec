import type { Store } from 'whatsapp-web.js';
import { WwebjsConfig } from '../../../config/app-config';
import { WhatsappClientFactory, WhatsappClientListener } from '../whatsapp-client.port';
import { WwebjsWhatsappClient } from './wwebjs-whatsapp.client';

/** The default provider: real WhatsApp accounts through whatsapp-web.js. */
export class WwebjsWhatsappClientFactory extends WhatsappClientFactory {
  readonly provider = 'wwebjs';
  private readonly clients = new Map<string, WwebjsWhatsappClient>();

  constructor(
    private readonly config: WwebjsConfig,
    private readonly remoteStore: Store | undefined,
  ) {
    super();
  }

  create(sessionId: string, listener: WhatsappClientListener): WwebjsWhatsappClient {
    const client = new WwebjsWhatsappClient(sessionId, this.config, listener, this.remoteStore);
    this.clients.set(sessionId, client);
    return client;
  }

  /** The latest client of a session, for tests that drive the page. */
  clientOf(sessionId: string): WwebjsWhatsappClient | undefined {
    return this.clients.get(sessionId);
  }
}
