import { WhatsappClientFactory, WhatsappClientListener } from '../whatsapp-client.port';
import { FetchHook, SimulatedWhatsappClient } from './simulated-whatsapp.client';
import { SimulatedAccount } from './simulated-account';

/** Creates simulated clients that all share one account and one in-memory login store. */
export class SimulatedWhatsappClientFactory extends WhatsappClientFactory {
  readonly provider = 'simulated';
  private readonly logins = new Set<string>();
  private readonly clients = new Map<string, SimulatedWhatsappClient>();
  /** Test seam: awaited before each message fetch. */
  beforeFetch: FetchHook | undefined;

  /** The account every client answers from; replaceable while clients run. */
  constructor(public account: SimulatedAccount) {
    super();
  }

  create(sessionId: string, listener: WhatsappClientListener): SimulatedWhatsappClient {
    const client = new SimulatedWhatsappClient(sessionId, () => this.account, listener, this.logins, (s, c) => this.beforeFetch?.(s, c));
    this.clients.set(sessionId, client);
    return client;
  }

  /** The latest client created for a session, to drive live traffic in demos and tests. */
  clientOf(sessionId: string): SimulatedWhatsappClient | undefined {
    return this.clients.get(sessionId);
  }
}
