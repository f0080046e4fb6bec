import type { Store } from 'whatsapp-web.js';
import { WwebjsConfig } from '../../../config/app-config';
import { WhatsappClientFactory, WhatsappClientListener } from '../whatsapp-client.port';
import { WwebjsWhatsappClient } from './wwebjs-whatsapp.client';

/** The default provider: real WhatsApp accounts through whatsapp-web.js. */
export class WwebjsWhatsappClientFactory extends WhatsappClientFactory {
  readonly provider = 'wwebjs';

  constructor(
    private readonly config: WwebjsConfig,
    private readonly remoteStore: Store | undefined,
  ) {
    super();
  }

  create(sessionId: string, listener: WhatsappClientListener): WwebjsWhatsappClient {
    return new WwebjsWhatsappClient(sessionId, this.config, listener, this.remoteStore);
  }
}
