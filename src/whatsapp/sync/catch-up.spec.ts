import { WaChat, WaMessage } from '../client/whatsapp.types';
import { fetchSinceStored, isUnchanged } from './catch-up';

/** `count` messages, one a second up to `last`, oldest first, ids m<timestamp>. */
function history(count: number, last = 1000): WaMessage[] {
  return Array.from({ length: count }, (_, n) => {
    const timestamp = last - (count - 1 - n);
    return { id: `m${timestamp}`, chatId: 'c@c.us', fromMe: false, author: null, body: '', type: 'chat', timestamp, hasMedia: false, ack: 0, raw: {} };
  });
}

/** A provider that knows `messages` and records the windows it was asked for. */
function provider(messages: WaMessage[]) {
  const windows: number[] = [];
  const fetch = async (limit: number) => {
    windows.push(limit);
    return messages.slice(Math.max(0, messages.length - limit));
  };
  return { fetch, windows };
}

const chat = (timestamp: number | null): WaChat => ({ id: 'c@c.us', name: 'c', isGroup: false, unreadCount: 0, timestamp, archived: false, pinned: false, raw: {} });

describe('isUnchanged', () => {
  it('leaves a chat alone only when it has stored messages and nothing newer', () => {
    expect(isUnchanged(chat(1000), { id: 'm1000', timestamp: 1000 })).toBe(true);
    expect(isUnchanged(chat(999), { id: 'm1000', timestamp: 1000 })).toBe(true);
    expect(isUnchanged(chat(1001), { id: 'm1000', timestamp: 1000 })).toBe(false);
    expect(isUnchanged(chat(1000), null)).toBe(false);
    expect(isUnchanged(chat(null), { id: 'm1000', timestamp: 1000 })).toBe(false);
  });
});

describe('fetchSinceStored', () => {
  it('one window when it reaches the newest stored message', async () => {
    const { fetch, windows } = provider(history(500));
    const result = await fetchSinceStored(fetch, { id: 'm990', timestamp: 990 }, 20, 5000);
    expect(windows).toEqual([20]);
    expect(result.gap).toBe(false);
    expect(result.messages.map((m) => m.timestamp)).toEqual(history(20).map((m) => m.timestamp));
  });

  it('grows the window four times at a time until it reaches stored history', async () => {
    const { fetch, windows } = provider(history(2000));
    const result = await fetchSinceStored(fetch, { id: 'm500', timestamp: 500 }, 10, 5000);
    expect(windows).toEqual([10, 40, 160, 640]);
    expect(result.gap).toBe(false);
    expect(result.messages).toHaveLength(640);
  });

  it('stops at a short window: WhatsApp has nothing older', async () => {
    const { fetch, windows } = provider(history(30));
    const result = await fetchSinceStored(fetch, { id: 'gone', timestamp: 0 }, 10, 5000);
    expect(windows).toEqual([10, 40]);
    expect(result).toMatchObject({ gap: false });
    expect(result.messages).toHaveLength(30);
  });

  it('counts a message older than the newest stored one as reaching it (the stored one was deleted)', async () => {
    const { fetch, windows } = provider(history(100));
    const result = await fetchSinceStored(fetch, { id: 'deleted-on-the-phone', timestamp: 995 }, 10, 5000);
    expect(windows).toEqual([10]);
    expect(result.gap).toBe(false);
  });

  it('a same-second message is not enough: the stored id, or an older second, is', async () => {
    const same = history(8).map((m, n) => ({ ...m, id: `s${n}`, timestamp: 1000 }));
    const { fetch, windows } = provider(same);
    expect(await fetchSinceStored(fetch, { id: 's1', timestamp: 1000 }, 2, 5000)).toMatchObject({ gap: false });
    expect(windows).toEqual([2, 8]);
  });

  it('exactly maxNew new messages: no gap (the window of maxNew + 1 holds a stored one)', async () => {
    const { fetch, windows } = provider(history(100));
    const result = await fetchSinceStored(fetch, { id: 'm950', timestamp: 950 }, 10, 50);
    expect(windows).toEqual([10, 40, 51]);
    expect(result.gap).toBe(false);
    expect(result.messages).toHaveLength(51);
  });

  it('more than maxNew new messages: the newest maxNew, and a gap', async () => {
    const { fetch, windows } = provider(history(100));
    const result = await fetchSinceStored(fetch, { id: 'm900', timestamp: 900 }, 10, 50);
    expect(windows).toEqual([10, 40, 51]);
    expect(result.gap).toBe(true);
    expect(result.messages.map((m) => m.timestamp)).toEqual(history(50).map((m) => m.timestamp));
  });

  it('a first window larger than the bound is cut to maxNew + 1', async () => {
    const { fetch, windows } = provider(history(100));
    expect((await fetchSinceStored(fetch, { id: 'm1', timestamp: 1 }, 100, 5)).gap).toBe(true);
    expect(windows).toEqual([6]);
  });
});
