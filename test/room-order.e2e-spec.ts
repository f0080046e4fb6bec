import { SyncChatsPayload } from '../src/whatsapp/events';
import { SyncTracker } from '../src/whatsapp/sync/sync-tracker';
import { chat } from './support/accounts';
import { EventLog, TestApp, emitWithAck, settled } from './support/test-app';

/** Many chats of one message: two events a millisecond or so, so the room is busy. */
const CHATS = 3000;
const SESSION = 'busy';

/** An event's place in the contract's sequence: 0, then two per chat (one message each here). */
const position = (e: SyncChatsPayload): number => (e.currentChat === 0 ? 0 : 2 * e.currentChat - (e.messagesSynced === 0 ? 1 : 0));
const LAST = 2 * CHATS;

/**
 * What each socket sees of a busy room while it joins, leaves or exchanges acknowledgements: the
 * gateway's side of Socket.IO rooms, through the real app.
 */
describe('Events of a busy room, seen by sockets that join, leave and ask', () => {
  let t: TestApp;
  /** The sync's latest event as the server wrote each acknowledgement: what was sent before it. */
  const sentBeforeAck: Array<SyncChatsPayload | undefined> = [];
  /** The sync's latest event as a socket left the session's room: what was sent while it was in. */
  const sentBeforeLeave: Array<SyncChatsPayload | undefined> = [];
  /** `sync_chats_done` packets handed to engine.io so far, one per socket in the room. */
  let doneHandedOver = 0;
  let roomSize: () => number;

  beforeAll(async () => {
    const account = { scanAfterMs: 0, fetchLatencyMs: 0, chats: Array.from({ length: CHATS }, (_, n) => chat(`${100000 + n}@c.us`, 1)) };
    t = await TestApp.start({ account });
    await t.readySession(SESSION);
    // Observed inside the server, at the very moment each thing happens.
    const tracker = t.app.get(SyncTracker);
    const io = t.io();
    io.on('connection', (socket) =>
      socket.conn.on('packetCreate', (packet: { data?: unknown }) => {
        // A Socket.IO acknowledgement of the main namespace: '3' and its id.
        if (typeof packet.data === 'string' && /^3\d/.test(packet.data)) sentBeforeAck.push(tracker.get(SESSION)?.latest);
        if (String(packet.data).startsWith('2["sync_chats_done"')) doneHandedOver++;
      }),
    );
    roomSize = () => io.of('/').adapter.rooms.get(`session:${SESSION}`)?.size ?? 0;
    io.of('/').adapter.on('leave-room', (room: string) => {
      if (room === `session:${SESSION}`) sentBeforeLeave.push(tracker.get(SESSION)?.latest);
    });
  });

  afterAll(async () => {
    await t.close();
  });

  const positions = (log: EventLog) => log.of<SyncChatsPayload>('sync_chats').map(position);
  const run = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('a socket joining mid-run gets the latest event, then every later one once, in order; its acknowledgement is a barrier', async () => {
    const early = await t.joined(SESSION);
    const sync = t.request('POST', `/whatsapp-web/session/${SESSION}/sync-chats?limitPerChat=1`);
    await early.log.waitFor('sync_chats', 400);

    // A round trip mid-run: at its acknowledgement, everything sent before the server handled it has arrived.
    let seenAtAck = -1;
    sentBeforeAck.length = 0;
    // Read in the acknowledgement's own callback: a promise's continuation could run after later packets.
    await new Promise<void>((resolve) =>
      early.socket.emit('leave-session', { sessionId: 'barrier-room' }, () => {
        seenAtAck = positions(early.log).at(-1)!;
        resolve();
      }),
    );
    const [atAck] = sentBeforeAck;
    const late = await t.joined(SESSION);
    expect((await sync).status).toBe(200);
    await late.log.waitFor('sync_chats_done');

    expect(seenAtAck).toBeGreaterThanOrEqual(position(atAck!));
    expect(seenAtAck).toBeLessThan(LAST);
    expect(positions(early.log)).toEqual(run(0, LAST));
    // The late socket: the replayed latest event, then the run from there on, nothing twice, nothing older.
    const late_ = positions(late.log);
    expect(late_[0]).toBeGreaterThan(0);
    expect(late_).toEqual(run(late_[0], LAST));
  }, 60_000);

  it('a socket leaving mid-run gets every event sent while it was in the room, and none after its acknowledgement; the run ends before its answer', async () => {
    const leaver = await t.joined(SESSION);
    const stayer = await t.joined(SESSION);
    const sync = t.request('POST', `/whatsapp-web/session/${SESSION}/sync-chats?limitPerChat=1`);
    await leaver.log.waitFor('sync_chats', 400);
    sentBeforeLeave.length = 0;
    expect(await emitWithAck(leaver.socket, 'leave-session', { sessionId: SESSION })).toEqual({ ok: true });
    const atAck = positions(leaver.log).length;
    doneHandedOver = 0;
    expect((await sync).status).toBe(200);
    expect(roomSize()).toBeGreaterThan(0);
    // The run's last event left before its HTTP answer: nothing of the run waited behind it.
    expect(doneHandedOver).toBe(roomSize());
    await stayer.log.waitFor('sync_chats_done');
    // A later round trip: anything still on its way to the leaver has arrived by then.
    await settled(leaver.socket);

    const seen = positions(leaver.log);
    expect(seen).toHaveLength(atAck);
    expect(seen).toEqual(run(0, seen.at(-1)!));
    expect(sentBeforeLeave).toHaveLength(1);
    expect(seen.at(-1)).toBeGreaterThanOrEqual(position(sentBeforeLeave[0]!));
    expect(seen.at(-1)).toBeLessThan(LAST);
    expect(leaver.log.of('sync_chats_done')).toEqual([]);
    expect(positions(stayer.log)).toEqual(run(0, LAST));
  }, 60_000);
});
