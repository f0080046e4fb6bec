/**
 * Calls `fn` for every item even when some throw, then throws the first error: one failing socket
 * or room must not keep the others' data back.
 */
export function callAll<T>(items: Iterable<T>, fn: (item: T) => void): void {
  let failure: { error: unknown } | undefined;
  for (const item of items) {
    try {
      fn(item);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}
