import { InitialSchema1764150000000 } from './1764150000000-initial-schema';
import { WwebjsAuthSessions1764160000000 } from './1764160000000-wwebjs-auth-sessions';
import { MessageChanges1764170000000 } from './1764170000000-message-changes';
import { SyncRunMode1764180000000 } from './1764180000000-sync-run-mode';
import { WebhookSettings1764190000000 } from './1764190000000-webhook-settings';
import { WebhookOutbox1764200000000 } from './1764200000000-webhook-outbox';
import { WebhookLeasedIndex1764210000000 } from './1764210000000-webhook-leased-index';
import { SessionLeases1764230000000 } from './1764230000000-session-leases';
import { Media1764300000000 } from './1764300000000-media';

/** Every migration, in order. Listed explicitly so that the build, tests and CLI run the same set. */
export const MIGRATIONS = [InitialSchema1764150000000, WwebjsAuthSessions1764160000000, MessageChanges1764170000000, SyncRunMode1764180000000, WebhookSettings1764190000000, WebhookOutbox1764200000000, WebhookLeasedIndex1764210000000, SessionLeases1764230000000, Media1764300000000];
