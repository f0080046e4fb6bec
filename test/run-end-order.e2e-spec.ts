import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { chat } from './support/accounts';
import { TestApp } from './support/test-app';

const SESSION = 'ends';
const RUNS = 20;
const WATCHERS = 3;

/**
 * README promises that a run's last event is written to the room's websockets before its HTTP answer
 * is, never held back behind it. Observed inside the server: what engine.io hands each websocket
 * transport ('flush', a public event), against the moment the answer is written ('finish').
 */
describe("A run's last event and its HTTP answer", () => {
  let t: TestApp;
  /** `sync_chats_done` packets flushed to websocket transports so far. */
  let endsFlushed = 0;
  const atAnswer: number[] = [];

  beforeAll(async () => {
    // Enough chats that the sockets are busy writing when the run ends.
    const account = { scanAfterMs: 0, fetchLatencyMs: 0, chats: Array.from({ length: 200 }, (_, n) => chat(`${300000 + n}@c.us`, 1)) };
    t = await TestApp.start({ account });
    await t.readySession(SESSION);
    t.io().on('connection', (socket) =>
      socket.conn.on('flush', (packets: Array<{ data?: unknown }>) => {
        for (const packet of packets) if (/^2\["sync_chats_done"/.test(String(packet.data))) endsFlushed++;
      }),
    );
    (t.app.getHttpServer() as HttpServer).on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (request.url?.includes('/sync-chats')) response.once('finish', () => atAnswer.push(endsFlushed));
    });
  });

  afterAll(async () => {
    await t.close();
  });

  it(`is flushed to every websocket of the room before the answer is written, in each of ${RUNS} runs`, async () => {
    const watchers = await Promise.all(Array.from({ length: WATCHERS }, () => t.joined(SESSION)));
    for (let n = 1; n <= RUNS; n++) {
      const answer = await t.request<{ success: boolean }>('POST', `/whatsapp-web/session/${SESSION}/sync-chats?limitPerChat=1`);
      expect(answer).toMatchObject({ status: 200, body: { success: true } });
      expect(atAnswer).toHaveLength(n);
      expect(atAnswer[n - 1]).toBe(n * WATCHERS);
    }
    for (const { log } of watchers) await log.waitFor('sync_chats_done', RUNS);
  }, 60_000);

});
