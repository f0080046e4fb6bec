import { SimulatedAccountSpec, SimulatedChatSpec, SimulatedMessageSpec } from '../../src/whatsapp/client/simulated/simulated-account';

const BASE = 1_764_150_000;

/** `count` messages of a chat, oldest first, one a minute up to `lastTimestamp`. */
export function messagesFor(chatId: string, count: number, lastTimestamp = BASE): SimulatedMessageSpec[] {
  return Array.from({ length: count }, (_, n) => {
    const fromMe = n % 2 === 1;
    return {
      id: `${fromMe}_${chatId}_3EB0${String(n).padStart(6, '0')}`,
      fromMe,
      author: chatId.endsWith('@g.us') && !fromMe ? '15551230000@c.us' : null,
      body: `message ${n} of ${chatId}`,
      type: 'chat',
      timestamp: lastTimestamp - (count - 1 - n) * 60,
      hasMedia: false,
      ack: fromMe ? 2 : 0,
    };
  });
}

export function chat(id: string, messageCount: number, overrides: Partial<SimulatedChatSpec> = {}): SimulatedChatSpec {
  return {
    id,
    name: `Name of ${id}`,
    isGroup: id.endsWith('@g.us'),
    unreadCount: 0,
    timestamp: BASE,
    archived: false,
    pinned: false,
    failFetch: false,
    messages: messagesFor(id, messageCount),
    ...overrides,
  };
}

/** The seed's "Event Flow Example": 3 chats with 50, 75 and 0 messages. */
export function seedAccount(): SimulatedAccountSpec {
  return {
    scanAfterMs: 0,
    fetchLatencyMs: 0,
    chats: [
      chat('chat1@c.us', 50, { name: 'Alice', unreadCount: 2, timestamp: BASE }),
      chat('chat2@c.us', 75, { name: 'Bob', timestamp: BASE - 100 }),
      chat('chat3@g.us', 0, { name: 'Team', isGroup: true, timestamp: BASE - 200 }),
    ],
  };
}
