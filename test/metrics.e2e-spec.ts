import { SimulatedAccountSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { seedAccount } from './support/accounts';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** GET /metrics as Prometheus parses it: each metric's type, and every sample by its line's name and labels. */
interface Scrape {
  types: Record<string, string>;
  samples: Record<string, number>;
}

function parse(text: string): Scrape {
  const types: Record<string, string> = {};
  const samples: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types[type[1]] = type[2];
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (sample) samples[sample[1]] = Number(sample[2]);
  }
  return { types, samples };
}

const LIVE = { id: 'false_chat1@c.us_3EB0METRIC1', fromMe: false, author: null, body: 'live', type: 'chat', timestamp: 1_764_150_060, hasMedia: false, ack: 0 };

function account(): SimulatedAccountSpec {
  return {
    ...seedAccount(),
    live: [
      { afterMs: 0, type: 'message', chatId: 'chat1@c.us', message: LIVE },
      { afterMs: 0, type: 'edit', messageId: LIVE.id, body: 'live, edited' },
    ],
  };
}

describe('GET /metrics', () => {
  describe('without API_KEY or METRICS_TOKEN', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await TestApp.start({ account: account() });
    });
    afterAll(() => t?.close());

    async function scrape(): Promise<Scrape> {
      const answer = await t.request<string>('GET', '/metrics');
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      return parse(answer.body);
    }

    it('names each metric with its type, the process\'s own included', async () => {
      const { types, samples } = await scrape();
      expect(types).toMatchObject({
        wa_sessions: 'gauge',
        wa_sync_runs_total: 'counter',
        wa_sync_duration_seconds: 'histogram',
        wa_sync_messages_synced_total: 'counter',
        wa_sync_messages_inserted_total: 'counter',
        wa_live_messages_total: 'counter',
        wa_message_updates_total: 'counter',
        wa_webhook_deliveries_total: 'counter',
        wa_webhook_outbox_pending: 'gauge',
        wa_webhook_outbox_oldest_pending_seconds: 'gauge',
        process_cpu_user_seconds_total: 'counter',
        process_resident_memory_bytes: 'gauge',
        nodejs_eventloop_lag_seconds: 'gauge',
      });
      // Every status has its series, at 0 when no session is in it.
      expect(samples['wa_sessions{status="ready"}']).toBe(0);
      expect(samples['wa_sessions{status="stopped"}']).toBe(0);
    });

    it('counts a session, its run, the messages it stored, the live message and its change', async () => {
      await t.readySession('m1');
      await waitFor(async () => (await scrape()).samples.wa_message_updates_total === 1, 'the live message and its edit counted');
      const answer = await t.request<{ messagesSynced: number }>('POST', '/whatsapp-web/session/m1/sync-chats');
      expect(answer.status).toBe(200);

      const { samples } = await scrape();
      expect(samples['wa_sessions{status="ready"}']).toBe(1);
      expect(samples['wa_sync_runs_total{mode="full",outcome="done"}']).toBe(1);
      expect(samples['wa_sync_duration_seconds_count{mode="full",outcome="done"}']).toBe(1);
      expect(samples['wa_sync_duration_seconds_bucket{le="+Inf",mode="full",outcome="done"}']).toBe(1);
      // The seed's 50 + 75 messages, and the live one, already stored: 126 held, 125 new.
      expect(answer.body.messagesSynced).toBe(126);
      expect(samples['wa_sync_messages_synced_total{mode="full"}']).toBe(126);
      expect(samples['wa_sync_messages_inserted_total{mode="full"}']).toBe(125);
      expect(samples.wa_live_messages_total).toBe(1);
      expect(samples.wa_message_updates_total).toBe(1);
    });
  });

  describe('access', () => {
    it('with API_KEY: the key opens it, nothing else does', async () => {
      const t = await TestApp.start({ account: seedAccount(), env: { API_KEY: 'the-key' } });
      try {
        expect((await t.request('GET', '/metrics')).status).toBe(401);
        expect((await t.request('GET', '/metrics', { headers: { authorization: 'Bearer the-key' } })).body).toEqual({
          statusCode: 401,
          error: 'Unauthorized',
          message: 'A valid x-api-key header is required',
        });
        expect((await t.request('GET', '/metrics', { headers: { 'x-api-key': 'the-key' } })).status).toBe(200);
      } finally {
        await t.close();
      }
    });

    it('with API_KEY and METRICS_TOKEN: the key or the bearer token', async () => {
      const t = await TestApp.start({ account: seedAccount(), env: { API_KEY: 'the-key', METRICS_TOKEN: 'scrape-token' } });
      try {
        expect((await t.request('GET', '/metrics', { headers: { authorization: 'Bearer scrape-token' } })).status).toBe(200);
        expect((await t.request('GET', '/metrics', { headers: { 'x-api-key': 'the-key' } })).status).toBe(200);
        const wrong = await t.request('GET', '/metrics', { headers: { authorization: 'Bearer the-key' } });
        expect({ status: wrong.status, body: wrong.body }).toEqual({
          status: 401,
          body: { statusCode: 401, error: 'Unauthorized', message: 'A valid x-api-key header or bearer token is required' },
        });
        // The token opens /metrics only.
        expect((await t.request('GET', '/whatsapp-web/sessions', { headers: { authorization: 'Bearer scrape-token' } })).status).toBe(401);
      } finally {
        await t.close();
      }
    });

    it('with METRICS_TOKEN alone: the token is needed', async () => {
      const t = await TestApp.start({ account: seedAccount(), env: { METRICS_TOKEN: 'scrape-token' } });
      try {
        expect((await t.request('GET', '/metrics')).status).toBe(401);
        expect((await t.request('GET', '/metrics', { headers: { authorization: 'bearer scrape-token' } })).status).toBe(200);
      } finally {
        await t.close();
      }
    });
  });
});
