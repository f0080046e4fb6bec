import { ChatEntity } from './chat.entity';
import { MessageEntity } from './message.entity';
import { MessageReactionEntity } from './message-reaction.entity';
import { PendingMessageChangeEntity } from './pending-message-change.entity';
import { SessionEntity } from './session.entity';
import { SyncRunEntity } from './sync-run.entity';
import { WebhookSettingEntity } from './webhook-setting.entity';

export { ChatEntity, MessageEntity, MessageReactionEntity, PendingMessageChangeEntity, SessionEntity, SyncRunEntity, WebhookSettingEntity };
export const ENTITIES = [SessionEntity, ChatEntity, MessageEntity, MessageReactionEntity, PendingMessageChangeEntity, SyncRunEntity, WebhookSettingEntity];
