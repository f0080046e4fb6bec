import { SimulatedAccount, SimulatedChat, SimulatedMessageSpec, toWaMessage } from './simulated-account';
import { SimulatedLiveEvent } from './simulated-live';

/** `SIMULATED_ACCOUNT=demo` selects this account. */
export const DEMO_ACCOUNT_NAME = 'demo';

const NOW = 1_764_150_000;
const PEOPLE = [
  'Ana Souza', 'Ben Carter', 'Chloé Martin', 'Dmitri Ivanov', 'Emma Schulz', 'Farah Haddad', 'Gabriel Silva',
  'Hana Sato', 'Isabel Ortega', 'Jamal Wright', 'Kofi Mensah', 'Lena Fischer', 'Mateo Rossi', 'Nadia Rahman',
  'Olivia Brown', 'Pedro Alves', 'Quinn Taylor', 'Rosa Jiménez', 'Sven Larsen', 'Tomás Díaz', 'Uma Patel',
  'Victor Hugo Lima', 'Wen Li', 'Yara Nascimento', 'Zoe Adams', 'Priya Nair', 'Lucas Moreau', 'Aiko Tanaka',
];
const GROUPS = ['Family 👨‍👩‍👧', 'Team Sales', 'Support escalations', 'Football Sunday ⚽', 'Book club 📚', 'Project Apollo', 'Neighbours', 'Trip to Lisbon ✈️'];
const LINES = [
  'Good morning! ☀️', 'Can you send me the invoice?', 'Sure, sending it now.', 'Thanks a lot 🙏', 'On my way 🚗',
  'Running 10 minutes late, sorry!', 'Did you see the new proposal?', 'Looks great 👍', 'Let me check and get back to you.',
  'Can we move the call to 3pm?', 'Done ✅', 'Where are we meeting?', 'Happy birthday!! 🎉🎂', 'The delivery arrived today.',
  'Price is 149,90 — ok for you?', 'I will call you later.', 'Haha 😂', 'Perfect, see you tomorrow.', 'Is the store open on Sunday?',
  'Order #4821 is ready for pickup.', 'Obrigado!', '¿Nos vemos mañana?', 'Merci beaucoup 😊', 'ok', 'Sent you the address 📍',
];
const MEDIA = [
  { type: 'image', caption: 'Look at this 📸' },
  { type: 'video', caption: '' },
  { type: 'ptt', caption: '' },
  { type: 'document', caption: 'contract-v3.pdf' },
  { type: 'sticker', caption: '' },
  { type: 'audio', caption: '' },
];

/**
 * A realistic account for `npm run demo`: 36 chats (8 of them groups), about 3,000 messages with
 * names, emoji, media, locations, replies, in both directions. Deterministic, so every demo and
 * test sees the same data.
 */
export function demoAccount(options: { scanAfterMs?: number; fetchLatencyMs?: number; liveAfterMs?: number } = {}): SimulatedAccount {
  const random = seededRandom(20261126);
  const chats: SimulatedChat[] = [];
  PEOPLE.forEach((name, index) => chats.push(demoChat(random, index, name, false)));
  GROUPS.forEach((name, index) => chats.push(demoChat(random, PEOPLE.length + index, name, true)));
  chats.sort((a, b) => (b.chat.timestamp ?? 0) - (a.chat.timestamp ?? 0));
  return { scanAfterMs: options.scanAfterMs ?? 4000, fetchLatencyMs: options.fetchLatencyMs ?? 40, chats, live: demoLive(chats, options.liveAfterMs ?? 8000) };
}

/**
 * What the dashboard shows happening after `ready`: in the newest private chat, a message arrives
 * and is edited, and the contact reacts to it and to the message before; the first `afterMs` after
 * `ready`, the others a few seconds apart.
 */
function demoLive(chats: SimulatedChat[], afterMs: number): SimulatedLiveEvent[] {
  const chat = chats.find((c) => !c.chat.isGroup)!;
  const previous = chat.newestMessages(1)[0];
  const id = `false_${chat.chat.id}_3EB0DEMOLIVE0001`;
  const timestamp = (chat.chat.timestamp ?? NOW) + 60;
  const message = { id, fromMe: false, author: null, body: 'Are we still on for tonight? 🍕', type: 'chat', timestamp, hasMedia: false, ack: 0 };
  return [
    { afterMs, type: 'message', chatId: chat.chat.id, message },
    { afterMs: afterMs + 4000, type: 'edit', messageId: id, body: 'Are we still on for tonight? 🍕 8pm works for me' },
    { afterMs: afterMs + 7000, type: 'reaction', messageId: id, senderId: chat.chat.id, emoji: '👍' },
    { afterMs: afterMs + 9000, type: 'reaction', messageId: previous.id, senderId: chat.chat.id, emoji: '❤️' },
  ];
}

function demoChat(random: () => number, index: number, name: string, isGroup: boolean): SimulatedChat {
  const id = isGroup ? `1203630${String(2000000000 + index * 7919)}@g.us` : `${5511900000000 + index * 104729}@c.us`;
  const count = 30 + Math.floor(random() * (isGroup ? 170 : 110));
  const last = NOW - Math.floor(random() * 14 * 86400);
  const members = isGroup ? Array.from({ length: 4 }, (_, k) => `${5511980000000 + ((index + k) % 28) * 104729}@c.us`) : [];
  const specs: SimulatedMessageSpec[] = [];
  let timestamp = last - count * 900;
  for (let n = 0; n < count; n++) {
    timestamp += 60 + Math.floor(random() * 1700);
    specs.push(demoMessage(random, id, n, Math.min(timestamp, last), members));
  }
  const messages = specs.map((spec, n) => withReply(toWaMessage(id, spec), specs[n - 1], n));
  const fields = {
    id,
    name,
    isGroup,
    unreadCount: random() < 0.3 ? 1 + Math.floor(random() * 9) : 0,
    timestamp: specs.length ? specs[specs.length - 1].timestamp : last,
    archived: index % 13 === 12,
    pinned: index === 0 || index === PEOPLE.length,
  };
  return {
    chat: { ...fields, raw: { ...fields, isReadOnly: false, isMuted: false } },
    failFetch: false,
    newestMessages: (limit) => messages.slice(Math.max(0, messages.length - limit)),
  };
}

function demoMessage(random: () => number, chatId: string, n: number, timestamp: number, members: string[]): SimulatedMessageSpec {
  const fromMe = random() < 0.45;
  const roll = random();
  const media = roll < 0.12 ? MEDIA[Math.floor(random() * MEDIA.length)] : undefined;
  const isLocation = !media && roll < 0.14;
  return {
    id: `${fromMe}_${chatId}_3EB0${hex(chatId.length * 1_000_003 + n * 7_777)}${hex(n)}`,
    fromMe,
    author: members.length && !fromMe ? members[n % members.length] : null,
    body: media ? media.caption : isLocation ? '' : LINES[Math.floor(random() * LINES.length)],
    type: media ? media.type : isLocation ? 'location' : 'chat',
    timestamp,
    hasMedia: media !== undefined,
    ack: fromMe ? 1 + Math.floor(random() * 3) : 0,
  };
}

/** Every seventh message quotes the one before it, as a reply does in whatsapp-web.js's raw data. */
function withReply<T extends { raw: Record<string, unknown> }>(message: T, previous: SimulatedMessageSpec | undefined, n: number): T {
  if (!previous || n % 7 !== 0) return message;
  return { ...message, raw: { ...message.raw, hasQuotedMsg: true, quotedMsgId: previous.id, quotedBody: previous.body } };
}

function hex(value: number): string {
  return (value >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** mulberry32: small, fast, and the same sequence everywhere. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
