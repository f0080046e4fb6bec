import { Transform } from 'class-transformer';

/*
 * Query strings arrive as text: these transforms turn only the exact spellings into values, and
 * leave anything else as it is for the validators to refuse with their message.
 */

/** Only plain digits become numbers, so `1.5`, `1e3`, `0x10` fail. */
export const strictInt = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value));

/** Only `true` and `false` are booleans. */
export const strictBool = () =>
  Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));
