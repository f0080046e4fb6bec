import { ChatEntity } from './chat.entity';
import { MessageEntity } from './message.entity';
import { MessageReactionEntity } from './message-reaction.entity';
import { PendingMessageChangeEntity } from './pending-message-change.entity';
import { SessionEntity } from './session.entity';
import { SyncRunEntity } from './sync-run.entity';

export { ChatEntity, MessageEntity, MessageReactionEntity, PendingMessageChangeEntity, SessionEntity, SyncRunEntity };
export const ENTITIES = [SessionEntity, ChatEntity, MessageEntity, MessageReactionEntity, PendingMessageChangeEntity, SyncRunEntity];
