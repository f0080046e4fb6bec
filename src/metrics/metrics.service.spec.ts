import { EventPublisher } from '../whatsapp/event-publisher';
import { SessionStatus } from '../whatsapp/client/whatsapp.types';
import type { WhatsappClient } from '../whatsapp/client/whatsapp-client.port';
import { SessionService } from '../whatsapp/session/session.service';
import { SyncRun } from '../whatsapp/sync/sync-run';
import { SyncTracker } from '../whatsapp/sync/sync-tracker';
import { MetricsService } from './metrics.service';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('MetricsService', () => {
  const sessions = { countByStatus: () => ({ starting: 0, qr: 1, authenticated: 0, ready: 2, disconnected: 0, stopped: 0, failed: 0 }) as Record<SessionStatus, number> };

  function setUp() {
    const publisher = new EventPublisher();
    const tracker = new SyncTracker();
    const metrics = new MetricsService(publisher, sessions as unknown as SessionService, tracker);
    metrics.onModuleInit();
    return { publisher, tracker, metrics };
  }

  it('counts a failed and an interrupted run under their own mode and outcome, from the run that ended', async () => {
    const { publisher, tracker, metrics } = setUp();
    for (const [id, mode, status] of [['r1', 'incremental', 'interrupted'], ['r2', 'full', 'failed']] as const) {
      const run = new SyncRun('s1', 100, { mode, trigger: 'api' }, publisher);
      void tracker.start(run, {} as WhatsappClient, () => new Promise(() => undefined));
      run.recorded({ id, startedAt: new Date(Date.now() - 1500) });
      run.failed(status, 'why');
      run.announceFailure();
    }
    // A failure event of a run this process does not know (another syncId) is not counted.
    publisher.publish('s1', 'sync_chats_failed', { sessionId: 's1', syncId: 'unknown', error: 'x' });
    const { body } = await metrics.scrape();
    expect(sample(body, 'wa_sync_runs_total{mode="incremental",outcome="interrupted"}')).toBe(1);
    expect(sample(body, 'wa_sync_runs_total{mode="full",outcome="failed"}')).toBe(1);
    expect(sample(body, 'wa_sync_duration_seconds_count{mode="full",outcome="failed"}')).toBe(1);
    expect(sample(body, 'wa_sync_duration_seconds_bucket{le="1",mode="full",outcome="failed"}')).toBe(0);
    expect(sample(body, 'wa_sync_duration_seconds_bucket{le="2.5",mode="full",outcome="failed"}')).toBe(1);
    expect(sample(body, 'wa_sessions{status="ready"}')).toBe(2);
    expect(sample(body, 'wa_sessions{status="qr"}')).toBe(1);
    metrics.onModuleDestroy();
  });

  it('stops listening once destroyed', async () => {
    const { publisher, metrics } = setUp();
    metrics.onModuleDestroy();
    publisher.publish('s1', 'message_update', { sessionId: 's1', message: {} as never });
    expect(sample((await metrics.scrape()).body, 'wa_message_updates_total')).toBe(0);
  });
});
