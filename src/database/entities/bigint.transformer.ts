import { ValueTransformer } from 'typeorm';

/**
 * pg returns `bigint` as a string to avoid precision loss. Our bigints (Unix seconds, row ids) stay
 * far below 2^53, so reading them as numbers is exact.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
