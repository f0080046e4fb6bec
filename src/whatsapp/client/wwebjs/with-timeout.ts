/** Thrown when a call into WhatsApp Web does not answer in time. */
export class CallTimeoutError extends Error {}

/**
 * Races `promise` against a timer. whatsapp-web.js calls have no time limit of their own and a
 * `fetchMessages` has been seen to hang for ever; this turns a hang into an error for that call.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallTimeoutError(`${what} timed out after ${ms} ms`)), ms);
  });
  // The losing call may still reject later; that rejection is expected and must not go unhandled.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
