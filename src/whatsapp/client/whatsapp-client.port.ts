import { SessionStatus, WaChat, WaMe, WaMedia, WaMessage, WaMessageEdit, WaMessageRevoke, WaReaction } from './whatsapp.types';

/** What a provider reports about its session as it happens. */
export interface WhatsappClientListener {
  onStatus(status: SessionStatus, detail?: string): void;
  /** A new QR string to scan; repeats as WhatsApp refreshes it. */
  onQr(qr: string): void;
  /** A message seen live after `ready` (incoming or sent from the phone). */
  onMessage(message: WaMessage): void;
  /** A delivery/read acknowledgement changed for a message. */
  onMessageAck(messageId: string, chatId: string, ack: number): void;
  /** A message's text was edited. */
  onMessageEdit(edit: WaMessageEdit): void;
  /** A message was deleted for everyone. */
  onMessageRevoke(revoke: WaMessageRevoke): void;
  /** A reaction to a message was set, changed or removed. */
  onMessageReaction(reaction: WaReaction): void;
}

/**
 * One WhatsApp account driven by a provider. Everything the service needs of WhatsApp goes
 * through this interface; providers never touch the database or the sockets.
 */
export interface WhatsappClient {
  /** Begins the lifecycle (`starting`, then `qr` or straight to `authenticated`/`ready`). */
  start(): Promise<void>;
  /** Every chat of the account. */
  getChats(): Promise<WaChat[]>;
  /** The newest `limit` messages of a chat (fewer if the chat has fewer), oldest first. */
  fetchMessages(chatId: string, limit: number): Promise<WaMessage[]>;
  /**
   * Downloads a message's media (found by id, even when the client does not hold it in memory):
   * `null` when WhatsApp no longer has it; throws when the download failed and may work later.
   * Optional: a client without it (one not restored at start) downloads nothing.
   */
  downloadMedia?(messageId: string, chatId: string): Promise<WaMedia | null>;
  /** The logged-in account, once authenticated. */
  getMe(): WaMe | null;
  /** Closes the client; the login is kept for the next start. */
  stop(): Promise<void>;
  /** Logs out and forgets the login. */
  logout(): Promise<void>;
}

/**
 * The injection token and contract for a provider: one factory per `WA_PROVIDER`, bound in
 * `whatsapp-client.module.ts`.
 */
export abstract class WhatsappClientFactory {
  abstract readonly provider: string;
  abstract create(sessionId: string, listener: WhatsappClientListener): WhatsappClient;
}
