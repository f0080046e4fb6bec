import { WhatsappClientFactory, WhatsappClientListener } from '../whatsapp-client.port';
import { SimulatedWhatsappClient } from './simulated-whatsapp.client';
import { SimulatedAccount } from './simulated-account';

/** Creates simulated clients that all share one account and one in-memory login store. */
export class SimulatedWhatsappClientFactory extends WhatsappClientFactory {
  readonly provider = 'simulated';
  private readonly logins = new Set<string>();

  constructor(private readonly account: SimulatedAccount) {
    super();
  }

  create(sessionId: string, listener: WhatsappClientListener): SimulatedWhatsappClient {
    return new SimulatedWhatsappClient(sessionId, () => this.account, listener, this.logins);
  }
}
