import { WhatsappClient, WhatsappClientFactory, WhatsappClientListener } from '../whatsapp-client.port';
import { WaChat, WaMe, WaMessage } from '../whatsapp.types';

/**
 * Placeholder until the whatsapp-web.js adapter lands (issue 4). It does not pretend: a session
 * started with it ends in `failed` and says why, so `WA_PROVIDER=simulated` is the working choice.
 */
export const WWEBJS_NOT_AVAILABLE =
  'The whatsapp-web.js provider is not implemented yet; set WA_PROVIDER=simulated';

export class WwebjsNotAvailableFactory extends WhatsappClientFactory {
  readonly provider = 'wwebjs';

  create(_sessionId: string, listener: WhatsappClientListener): WhatsappClient {
    return new UnavailableClient(listener);
  }
}

class UnavailableClient implements WhatsappClient {
  constructor(private readonly listener: WhatsappClientListener) {}
  async start(): Promise<void> {
    this.listener.onStatus('failed', WWEBJS_NOT_AVAILABLE);
  }
  getChats(): Promise<WaChat[]> {
    return Promise.reject(new Error(WWEBJS_NOT_AVAILABLE));
  }
  fetchMessages(): Promise<WaMessage[]> {
    return Promise.reject(new Error(WWEBJS_NOT_AVAILABLE));
  }
  getMe(): WaMe | null {
    return null;
  }
  async stop(): Promise<void> {}
  async logout(): Promise<void> {}
}
