/** The answer of `POST /session/:id/sync-chats`. */
export interface SyncResult {
  success: true;
  chatsProcessed: number;
  message: 'Synchronization completed successfully';
  syncId: string;
  chatsFailed: number;
  messagesSynced: number;
  durationMs: number;
}
