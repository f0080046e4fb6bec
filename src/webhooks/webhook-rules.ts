/** What a webhook may carry (README, "Webhooks"); a setting without `events` carries all of them. */
export const WEBHOOK_EVENT_NAMES = ['message', 'message_update', 'session_status', 'sync_chats_done', 'sync_chats_failed'] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENT_NAMES)[number];

/** Longest webhook URL and secret accepted: far above real ones, far below what a row should hold. */
export const WEBHOOK_URL_MAX_LENGTH = 2048;
export const WEBHOOK_SECRET_MAX_LENGTH = 256;

/** C0 controls and DEL. */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Why `value` cannot be a webhook URL, or `null` when it can: an absolute http(s) URL, without
 * credentials (a user or password in it would be stored and logged as part of the URL; a receiver
 * authenticates deliveries by their signature).
 */
export function webhookUrlProblem(value: string): string | null {
  if (value.length > WEBHOOK_URL_MAX_LENGTH) return `must be at most ${WEBHOOK_URL_MAX_LENGTH} characters`;
  // The URL parser would drop or encode them, so the stored URL would not be the one posted to.
  if (CONTROL_CHARACTERS.test(value)) return 'must not contain control characters (tab, line breaks, NUL...)';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an absolute http:// or https:// URL';
  if (url.username !== '' || url.password !== '') return 'must not hold a user name or password (deliveries are signed with the secret instead)';
  return null;
}

/** The names of `values` that are not webhook events. */
export function unknownWebhookEvents(values: readonly string[]): string[] {
  return values.filter((value) => !(WEBHOOK_EVENT_NAMES as readonly string[]).includes(value));
}
