/** A `sync_chats` event as the benchmark reads it. */
export interface SyncChatsEvent {
  currentChat: number;
  nChats: number;
  messagesSynced?: number;
}

/**
 * Checks the contract's `sync_chats` order as events arrive, keeping counters only (a million-message
 * run must not make the benchmark itself the memory hog).
 */
export class OrderCheck {
  events = 0;
  private expectedChat = 0;
  private secondOfChat = false;
  private nChats = -1;
  error: string | undefined;

  accept(e: SyncChatsEvent): void {
    this.events++;
    if (this.error) return;
    if (this.events === 1) {
      if (e.currentChat !== 0) this.error = `first event has currentChat ${e.currentChat}`;
      this.nChats = e.nChats;
      this.expectedChat = 1;
      return;
    }
    if (e.currentChat !== this.expectedChat || e.nChats !== this.nChats) {
      this.error = `event ${this.events}: currentChat ${e.currentChat}, expected ${this.expectedChat}`;
      return;
    }
    if (!this.secondOfChat && e.messagesSynced !== 0) this.error = `event ${this.events}: first event of chat ${e.currentChat} has messagesSynced ${e.messagesSynced}`;
    if (this.secondOfChat) this.expectedChat++;
    this.secondOfChat = !this.secondOfChat;
  }
}
