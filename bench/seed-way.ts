import { DataSource } from 'typeorm';
import { MessageEntity } from '../src/database/entities/message.entity';
import { typeOrmOptions } from '../src/database/typeorm-options';
import { generateAccount } from '../src/whatsapp/client/simulated/generated-account';

/** The seed's way: one TypeORM `save()` per message, on `count` messages. Messages per second. */
export async function seedWay(url: string, count: number): Promise<number> {
  const dataSource = new DataSource({ ...typeOrmOptions(url, 2), migrationsRun: false });
  await dataSource.initialize();
  try {
    const repository = dataSource.getRepository(MessageEntity);
    const account = generateAccount({ chats: Math.ceil(count / 100), messagesPerChat: 100 });
    const messages = account.chats.flatMap((c) => c.newestMessages(100)).slice(0, count);
    const started = performance.now();
    for (const m of messages) {
      await repository.save(
        repository.create({
          sessionId: 'seed', waId: m.id, chatId: m.chatId, fromMe: m.fromMe, author: m.author, body: m.body,
          type: m.type, timestamp: m.timestamp, hasMedia: m.hasMedia, ack: m.ack, raw: m.raw,
        }),
      );
    }
    return count / ((performance.now() - started) / 1000);
  } finally {
    await dataSource.destroy();
  }
}
