/** What became of a message's media (README, "Media"). */
export const MEDIA_STATUSES = ['pending', 'stored', 'failed', 'too_large', 'expired'] as const;
export type MediaStatus = (typeof MEDIA_STATUSES)[number];

/**
 * A message's media as clients see it (the message view's `media`): `sha256` and `size` are those of
 * the stored bytes once `stored` (before, `size` is what WhatsApp announced, when it did); `error`
 * says why the last attempt failed.
 */
export interface MediaView {
  status: MediaStatus;
  mimetype: string | null;
  filename: string | null;
  size: number | null;
  sha256: string | null;
  error: string | null;
}

/** A download claimed from the queue by this process: the lease token fences every write of its outcome. */
export interface MediaJob {
  id: number;
  sessionId: string;
  messageId: string;
  chatId: string;
  mimetype: string | null;
  filename: string | null;
  /** What WhatsApp announced, when it did. */
  size: number | null;
  /** This one included. */
  attempts: number;
  leaseToken: string;
}

/** How one attempt ended. */
export type MediaOutcome =
  | { status: 'stored'; sha256: string; size: number; mimetype: string; filename: string | null }
  | { status: 'too_large'; size: number }
  | { status: 'expired' }
  /** A failure that may pass: retried with back-off, `failed` once the attempts are used up. */
  | { status: 'retry'; error: string };
