import type { DeliveryRow, DeliveryStatus, SettleAnswer, SettleRequest } from './webhook-delivery.repository';
import { QueueRunDeps, WebhookQueueRun } from './webhook-queue-run';
import type { SendOutcome } from './webhook-sender';

/**
 * A queue's run against a scripted receiver and database: each POST and each statement waits until
 * the test answers it, so that what overlaps what is exact. The clock is the test's.
 */

const OPTIONS = { window: 32, leaseMarginMs: 5000, confirmMs: 50 };
const OK: SendOutcome = { delivered: true, statusCode: 200, error: null, durationMs: 1, interrupted: false };
const REFUSED: SendOutcome = { delivered: false, statusCode: 503, error: 'answered 503', durationMs: 1, interrupted: false };

function row(n: number): DeliveryRow {
  const at = new Date(0);
  return {
    id: `d${n}`, seq: String(n), session_id: 's', url: 'http://receiver/', secret: null, event: 'message', payload: { n }, status: 'pending', attempts: 1,
    next_attempt_at: at, last_attempt_at: at, last_status_code: null, last_error: null, delivered_at: null, created_at: at, previous_attempt_at: null,
  };
}

/** What the run asked for, as the tests read it. */
interface Asked {
  outcomes: string[];
  held: string[];
  sending: string | null;
  want: number;
  renew: boolean;
}

function harness(setup: (state: { purge: Promise<void> | null }) => void = () => undefined, first = row(1)) {
  const posts: Array<{ id: string; answer: (sent: SendOutcome) => void }> = [];
  const settles: Array<{ asked: Asked; answer: (finished: Record<string, DeliveryStatus>, run: Array<string | DeliveryRow>) => void; fail: () => void }> = [];
  const recorded: string[] = [];
  const events: string[] = [];
  const state = {
    clock: 1000,
    stopped: false,
    purge: null as Promise<void> | null,
    purgeEndedAt: -Infinity,
    lingers: [] as Array<(goOn: boolean) => void>,
    sleeps: [] as number[],
  };
  const deps: QueueRunDeps = {
    post: (r) =>
      new Promise((resolve) => {
        events.push(`post ${r.id}`);
        posts.push({ id: r.id, answer: resolve });
      }),
    settle: (request: SettleRequest) =>
      new Promise<SettleAnswer>((resolve, reject) => {
        const asked: Asked = { outcomes: request.outcomes.map((o) => `${o.row.id}:${o.sent.statusCode}`), held: request.held.map((h) => h.id), sending: request.sending, want: request.want, renew: request.renew };
        events.push(`settle [${asked.outcomes.join(' ')}]`);
        settles.push({
          asked,
          // `run`: a string is a row the run held already, a row one leased by this statement.
          answer: (finished, run) => resolve({ finished: new Map(Object.entries(finished)), run: run.map((r) => (typeof r === 'string' ? { id: r, leased: null } : { id: r.id, leased: r })) }),
          fail: () => reject(new Error('connection terminated')),
        });
      }),
    retryMs: () => 1000,
    stopped: () => state.stopped,
    purges: () => ({ running: state.purge, endedAt: state.purgeEndedAt }),
    recorded: (r, sent, status) => recorded.push(`${r.id}:${sent.statusCode}:${status}`),
    settleFailed: () => undefined,
    linger: () => new Promise<boolean>((resolve) => state.lingers.push(resolve)),
    now: () => state.clock,
    sleep: (ms) => {
      state.sleeps.push(ms);
      return Promise.resolve();
    },
  };
  setup(state);
  let ended = false;
  const done = new WebhookQueueRun(deps, OPTIONS, first, state.clock).run().then(() => {
    ended = true;
  });
  return { posts, settles, recorded, events, state, done, ended: () => ended };
}

/** Lets every promise that can settle do so (no timers: the run has none of its own). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WebhookQueueRun', () => {
  it('sends the next delivery on the 2xx of the one before, while that one is being recorded; records in order, those answered meanwhile together', async () => {
    const h = harness();
    await flush();
    h.posts[0].answer(OK);
    await flush();
    // d1's record also leases what the queue has next.
    expect(h.settles.map((s) => s.asked)).toEqual([{ outcomes: ['d1:200'], held: [], sending: null, want: 32, renew: false }]);
    h.settles[0].answer({ d1: 'delivered' }, [row(2), row(3), row(4)]);
    await flush();
    h.posts[1].answer(OK);
    await flush();
    // d2's record is under way beside d3's POST.
    expect(h.events).toEqual(['post d1', 'settle [d1:200]', 'post d2', 'settle [d2:200]', 'post d3']);
    expect(h.settles[1].asked).toEqual({ outcomes: ['d2:200'], held: ['d4'], sending: 'd3', want: 32, renew: false });
    h.posts[2].answer(OK);
    await flush();
    h.posts[3].answer(OK);
    await flush();
    // One statement at a time: d3 and d4 wait for d2's, then go together.
    expect(h.events).toEqual(['post d1', 'settle [d1:200]', 'post d2', 'settle [d2:200]', 'post d3', 'post d4']);
    // The answer still lists d4 as held: it was sent meanwhile, and is not sent again.
    h.settles[1].answer({ d2: 'delivered' }, ['d4', row(5)]);
    await flush();
    expect(h.events.slice(6)).toEqual(['settle [d3:200 d4:200]', 'post d5']);
    h.settles[2].answer({ d3: 'delivered', d4: 'delivered' }, []);
    h.posts[4].answer(OK);
    await flush();
    h.settles[3].answer({ d5: 'delivered' }, []);
    await flush();
    // Everything recorded, nothing held: it waits for the queue's next rows; told none came, it ends.
    expect(h.state.lingers).toHaveLength(1);
    h.state.lingers[0](false);
    await h.done;
    expect(h.recorded).toEqual(['d1:200:delivered', 'd2:200:delivered', 'd3:200:delivered', 'd4:200:delivered', 'd5:200:delivered']);
    expect(h.posts.map((p) => p.id)).toEqual(['d1', 'd2', 'd3', 'd4', 'd5']);
  });

  it('an attempt not delivered stops the run until it is recorded; what was held behind it is given back', async () => {
    const h = harness();
    await flush();
    h.posts[0].answer(OK);
    await flush();
    h.settles[0].answer({ d1: 'delivered' }, [row(2), row(3)]);
    await flush();
    h.posts[1].answer(REFUSED);
    await flush();
    expect(h.settles[1].asked).toEqual({ outcomes: ['d2:503'], held: ['d3'], sending: null, want: 32, renew: false });
    // d3 does not leave while d2's outcome is not recorded.
    expect(h.posts.map((p) => p.id)).toEqual(['d1', 'd2']);
    // Recorded: d2 is pending again (its back-off), so the run is empty and d3 was given back.
    h.settles[1].answer({ d2: 'pending' }, []);
    await flush();
    h.state.lingers[0](false);
    await h.done;
    expect(h.posts.map((p) => p.id)).toEqual(['d1', 'd2']);
    expect(h.recorded).toEqual(['d1:200:delivered', 'd2:503:pending']);
  });

  it('a delivery that failed for good leaves its queue: the run goes on with the ones behind it', async () => {
    const h = harness();
    await flush();
    h.posts[0].answer(REFUSED);
    await flush();
    h.settles[0].answer({ d1: 'failed' }, [row(2)]);
    await flush();
    h.posts[1].answer(OK);
    await flush();
    h.settles[1].answer({ d2: 'delivered' }, []);
    await flush();
    h.state.lingers[0](false);
    await h.done;
    expect(h.recorded).toEqual(['d1:503:failed', 'd2:200:delivered']);
  });

  it('a statement that fails: nothing more leaves; tried again with every attempt not recorded, giving back what is held; three failures end the run', async () => {
    const h = harness();
    await flush();
    h.posts[0].answer(OK);
    await flush();
    h.settles[0].answer({ d1: 'delivered' }, [row(2), row(3)]);
    await flush();
    h.posts[1].answer(OK);
    await flush();
    // d2's record fails while d3 is under way; d3 answers.
    h.settles[1].fail();
    h.posts[2].answer(OK);
    await flush();
    expect(h.settles.slice(2).map((s) => s.asked)).toEqual([{ outcomes: ['d2:200', 'd3:200'], held: [], sending: null, want: 0, renew: false }]);
    h.settles[2].fail();
    await flush();
    h.settles[3].fail();
    await h.done;
    expect({ posts: h.posts.map((p) => p.id), statements: h.settles.length, sleeps: h.state.sleeps, recorded: h.recorded }).toEqual({ posts: ['d1', 'd2', 'd3'], statements: 4, sleeps: [100, 200], recorded: ['d1:200:delivered'] });
  });

  it('a statement that fails and then goes through: the attempts are recorded, in order, and the run ends holding nothing', async () => {
    const h = harness();
    await flush();
    h.posts[0].answer(OK);
    await flush();
    h.settles[0].fail();
    await flush();
    expect(h.settles[1].asked).toEqual({ outcomes: ['d1:200'], held: [], sending: null, want: 0, renew: false });
    h.settles[1].answer({ d1: 'delivered' }, []);
    await h.done;
    expect(h.recorded).toEqual(['d1:200:delivered']);
    expect(h.state.lingers).toEqual([]);
  });

  it('a shutdown: nothing more leaves, the one in flight is recorded and what is held given back', async () => {
    const h = harness();
    await flush();
    h.posts[0].answer(OK);
    await flush();
    h.settles[0].answer({ d1: 'delivered' }, [row(2), row(3)]);
    await flush();
    h.state.stopped = true;
    h.posts[1].answer({ ...REFUSED, statusCode: null, error: 'interrupted', interrupted: true });
    await flush();
    expect(h.settles[1].asked).toEqual({ outcomes: ['d2:null'], held: ['d3'], sending: null, want: 0, renew: false });
    h.settles[1].answer({ d2: 'pending' }, []);
    await h.done;
    expect(h.posts.map((p) => p.id)).toEqual(['d1', 'd2']);
  });

  it('nothing leaves while a purge of the session runs, and afterwards only on the word of a statement sent after it ended', async () => {
    let endPurge!: () => void;
    const h = harness((state) => (state.purge = new Promise<void>((resolve) => (endPurge = resolve))));
    await flush();
    expect(h.posts).toEqual([]);
    h.state.clock += 5;
    h.state.purgeEndedAt = h.state.clock;
    h.state.purge = null;
    endPurge();
    await flush();
    // d1 was claimed before the purge: a statement must say it is still there.
    expect(h.posts).toEqual([]);
    h.state.clock += 1;
    expect(h.settles.map((s) => s.asked)).toEqual([{ outcomes: [], held: ['d1'], sending: null, want: 32, renew: false }]);
    // The purge deleted it: the statement does not list it, and it is never sent.
    h.settles[0].answer({}, []);
    await flush();
    h.state.lingers[0](false);
    await h.done;
    expect(h.posts).toEqual([]);
  });

  it('a held delivery listed more than confirmMs ago, with an attempt ended since, waits for the statement after that attempt', async () => {
    const h = harness();
    await flush();
    h.posts[0].answer(OK);
    await flush();
    h.settles[0].answer({ d1: 'delivered' }, [row(2), row(3)]);
    await flush();
    // d2 takes 100 ms to answer: d3's listing is older than confirmMs by then.
    h.state.clock += 100;
    h.posts[1].answer(OK);
    await flush();
    expect(h.events).toEqual(['post d1', 'settle [d1:200]', 'post d2', 'settle [d2:200]']);
    h.settles[1].answer({ d2: 'delivered' }, ['d3']);
    await flush();
    expect(h.events.slice(4)).toEqual(['post d3']);
    h.posts[2].answer(OK);
    await flush();
    h.settles[2].answer({ d3: 'delivered' }, []);
    await flush();
    h.state.lingers[0](false);
    await h.done;
  });

  it('told of rows committed to its queue while it waits, it leases them with one statement and sends them', async () => {
    const h = harness();
    await flush();
    h.posts[0].answer(OK);
    await flush();
    h.settles[0].answer({ d1: 'delivered' }, []);
    await flush();
    h.state.lingers[0](true);
    await flush();
    expect(h.settles[1].asked).toEqual({ outcomes: [], held: [], sending: null, want: 32, renew: false });
    h.settles[1].answer({}, [row(2)]);
    await flush();
    h.posts[1].answer(OK);
    await flush();
    h.settles[2].answer({ d2: 'delivered' }, []);
    await flush();
    h.state.lingers[1](false);
    await h.done;
    expect(h.posts.map((p) => p.id)).toEqual(['d1', 'd2']);
  });

  it('a row of the run another statement took meanwhile: nothing after it leaves until a new statement says what the queue holds', async () => {
    const h = harness();
    await flush();
    h.posts[0].answer(OK);
    await flush();
    // d2 was in the run but not obtained; d3 was leased.
    h.settles[0].answer({ d1: 'delivered' }, ['d2', row(3)]);
    await flush();
    expect(h.posts.map((p) => p.id)).toEqual(['d1']);
    expect(h.settles[1].asked).toEqual({ outcomes: [], held: ['d3'], sending: null, want: 32, renew: false });
    // d2 is another worker's now: the run stops before it, and d3 is given back.
    h.settles[1].answer({}, []);
    await flush();
    h.state.lingers[0](false);
    await h.done;
    expect(h.posts.map((p) => p.id)).toEqual(['d1']);
  });

  it('a held delivery whose lease is too old to cover an attempt does not leave before a statement renews it', async () => {
    const h = harness();
    await flush();
    h.posts[0].answer(OK);
    await flush();
    h.settles[0].answer({ d1: 'delivered' }, [row(2), row(3)]);
    await flush();
    // d2 answers 4.5 s later: d3's lease (from d1's record) has less than a timeout and a second left.
    h.state.clock += 4500;
    h.posts[1].answer(OK);
    await flush();
    expect(h.settles[1].asked).toEqual({ outcomes: ['d2:200'], held: ['d3'], sending: null, want: 32, renew: true });
    expect(h.posts.map((p) => p.id)).toEqual(['d1', 'd2']);
    h.settles[1].answer({ d2: 'delivered' }, ['d3']);
    await flush();
    expect(h.posts.map((p) => p.id)).toEqual(['d1', 'd2', 'd3']);
    h.posts[2].answer(OK);
    await flush();
    h.settles[2].answer({ d3: 'delivered' }, []);
    await flush();
    h.state.lingers[0](false);
    await h.done;
  });
});
