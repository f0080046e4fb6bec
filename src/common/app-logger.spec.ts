import { AppLogger } from './app-logger';

describe('AppLogger', () => {
  function jsonLines(log: (logger: AppLogger) => void): Array<Record<string, unknown>> {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      log(new AppLogger({ json: true }));
    } finally {
      spy.mockRestore();
    }
    return written.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('puts the session id of a session line in its own field', () => {
    const [entry] = jsonLines((logger) => logger.log('session=sales-1 status ready', 'SessionService'));
    expect(entry).toMatchObject({ level: 'log', context: 'SessionService', sessionId: 'sales-1', message: 'status ready' });
  });

  it('leaves other lines as they are', () => {
    const [entry] = jsonLines((logger) => logger.log('listening on http://localhost:3000', 'Bootstrap'));
    expect(entry).toMatchObject({ message: 'listening on http://localhost:3000', context: 'Bootstrap' });
    expect(entry).not.toHaveProperty('sessionId');
  });
});
