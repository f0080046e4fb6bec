import { SimulatedAccount, SimulatedChat, toWaMessage } from './simulated-account';

/** Fixed "now" so that generated accounts are identical from run to run. */
const BASE_TIMESTAMP = 1_764_150_000;
const BODIES = [
  'Hi! How are you?',
  'Can we move the meeting to 3pm?',
  'Sure, sounds good 👍',
  'I sent you the invoice this morning, please check.',
  'On my way, 10 minutes.',
  'Thanks a lot!',
  'Did you see the new prices?',
  'Call me when you can.',
];

export interface GeneratedAccountOptions {
  chats: number;
  messagesPerChat: number;
  scanAfterMs?: number;
  fetchLatencyMs?: number;
}

/**
 * A deterministic account of `chats` chats with `messagesPerChat` messages each. Every fifth chat is
 * a group. Messages are computed when fetched, never held, so its size costs no memory.
 */
export function generateAccount(options: GeneratedAccountOptions): SimulatedAccount {
  const chats: SimulatedChat[] = [];
  for (let index = 0; index < options.chats; index++) chats.push(generatedChat(index, options.messagesPerChat));
  return { scanAfterMs: options.scanAfterMs ?? 500, fetchLatencyMs: options.fetchLatencyMs ?? 0, chats };
}

function generatedChat(index: number, messageCount: number): SimulatedChat {
  const isGroup = index % 5 === 4;
  const number = String(15550000000 + index);
  const id = isGroup ? `120363${String(index).padStart(12, '0')}@g.us` : `${number}@c.us`;
  const lastTimestamp = BASE_TIMESTAMP - index * 3600;
  const fields = {
    id,
    name: isGroup ? `Group ${index + 1}` : `Contact ${index + 1}`,
    isGroup,
    unreadCount: index % 3,
    timestamp: messageCount > 0 ? lastTimestamp : null,
    archived: index % 17 === 16,
    pinned: index < 2,
  };
  return {
    chat: { ...fields, raw: { ...fields } },
    failFetch: false,
    newestMessages(limit) {
      const from = Math.max(0, messageCount - limit);
      const messages = [];
      for (let n = from; n < messageCount; n++) {
        const fromMe = n % 3 === 0;
        messages.push(
          toWaMessage(id, {
            id: `${fromMe}_${id}_SIM${index.toString(16).toUpperCase()}X${n.toString(16).toUpperCase().padStart(6, '0')}`,
            fromMe,
            author: isGroup && !fromMe ? `${15560000000 + (n % 7)}@c.us` : null,
            body: BODIES[(index + n) % BODIES.length],
            type: 'chat',
            timestamp: lastTimestamp - (messageCount - 1 - n) * 60,
            hasMedia: false,
            ack: fromMe ? 3 : 0,
          }),
        );
      }
      return messages;
    },
  };
}
