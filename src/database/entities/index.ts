import { ChatEntity } from './chat.entity';
import { MessageEntity } from './message.entity';
import { SessionEntity } from './session.entity';
import { SyncRunEntity } from './sync-run.entity';

export { ChatEntity, MessageEntity, SessionEntity, SyncRunEntity };
export const ENTITIES = [SessionEntity, ChatEntity, MessageEntity, SyncRunEntity];
