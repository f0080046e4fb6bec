import { WhatsappClientFactory, WhatsappClientListener } from '../whatsapp-client.port';
import { SimulatedLoginStore, SimulatedWhatsappClient } from './simulated-whatsapp.client';
import { SimulatedAccount } from './simulated-account';

/** Creates simulated clients that all share one account and one login store (in memory unless given one). */
export class SimulatedWhatsappClientFactory extends WhatsappClientFactory {
  readonly provider = 'simulated';

  constructor(
    private readonly account: SimulatedAccount,
    private readonly logins: SimulatedLoginStore = new Set<string>(),
  ) {
    super();
  }

  create(sessionId: string, listener: WhatsappClientListener): SimulatedWhatsappClient {
    return new SimulatedWhatsappClient(sessionId, () => this.account, listener, this.logins);
  }
}
