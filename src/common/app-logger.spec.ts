import { AppLogger } from './app-logger';

describe('AppLogger', () => {
  function lines(json: boolean, log: (logger: AppLogger) => void): string[] {
    const written: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      log(new AppLogger({ json, colors: false }));
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    return written;
  }
  const jsonLines = (log: (logger: AppLogger) => void) => lines(true, log).map((line) => JSON.parse(line) as Record<string, unknown>);

  it('gives the fields of a line their own JSON fields, beside the text and the context', () => {
    const [entry] = jsonLines((logger) => logger.log('status ready', { sessionId: 'sales-1' }, 'SessionService'));
    expect(entry).toMatchObject({ level: 'log', context: 'SessionService', sessionId: 'sales-1', message: 'status ready' });
  });

  it('does so for errors and warnings too, with several fields', () => {
    const [error, warn] = jsonLines((logger) => {
      logger.error('sync failed', { sessionId: 's1', syncId: 'r1' }, 'Sync');
      logger.warn('chat failed', { sessionId: 's1', chatId: 'c@c.us' }, 'Sync');
    });
    expect(error).toMatchObject({ level: 'error', context: 'Sync', sessionId: 's1', syncId: 'r1', message: 'sync failed' });
    expect(warn).toMatchObject({ level: 'warn', context: 'Sync', sessionId: 's1', chatId: 'c@c.us', message: 'chat failed' });
  });

  it('names the fields after the text in pretty mode', () => {
    const [line] = lines(false, (logger) => logger.log('status ready', { sessionId: 'sales-1' }, 'SessionService'));
    expect(line).toContain('[SessionService] status ready (sessionId=sales-1)');
  });

  it('leaves other lines as they are, a "session=" text included', () => {
    const [plain, prefixed] = jsonLines((logger) => {
      logger.log('listening on http://localhost:3000', 'Bootstrap');
      logger.log('session=x is just text', 'Bootstrap');
    });
    expect(plain).toMatchObject({ message: 'listening on http://localhost:3000', context: 'Bootstrap' });
    expect(plain).not.toHaveProperty('sessionId');
    expect(prefixed).toMatchObject({ message: 'session=x is just text' });
    expect(prefixed).not.toHaveProperty('sessionId');
  });
});
