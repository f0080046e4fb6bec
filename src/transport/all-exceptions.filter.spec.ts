import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable } from './all-exceptions.filter';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a dropped connection (57P01)', pgError('57P01', 'terminating connection due to administrator command')],
    ['a database refusing connections', pgError('55000', 'database "wa" is not currently accepting connections')],
    ['a server starting up (57P03)', pgError('57P03', 'the database system is starting up')],
    ['too many connections (53300)', pgError('53300', 'sorry, too many clients already')],
    ['a connection exception class (08006)', pgError('08006', 'connection failure')],
    ['a refused TCP connection', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a connection closed under the client', new Error('Connection terminated unexpectedly')],
    ['a pool that cannot connect in time', new Error('timeout exceeded when trying to connect')],
    ['a QueryFailedError wrapping a dropped connection', new QueryFailedError('SELECT 1', [], pgError('57P01', 'terminating connection due to administrator command'))],
  ])('is true for %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', new QueryFailedError('INSERT', [], pgError('23505', 'duplicate key value violates unique constraint'))],
    ['a value out of range', pgError('22003', 'value "1" is out of range for type bigint')],
    ['a syntax error', pgError('42601', 'syntax error at or near "x"')],
    ['a plain error', new Error('boom')],
    ['a string', 'Connection terminated'],
    ['null', null],
  ])('is false for %s', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
