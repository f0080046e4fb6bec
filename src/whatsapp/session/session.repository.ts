import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Not, Repository } from 'typeorm';
import { SessionEntity } from '../../database/entities/session.entity';
import { SessionStatus, WaMe } from '../client/whatsapp.types';

/** Session rows: what survives a restart of the service. */
@Injectable()
export class SessionRepository {
  constructor(@InjectRepository(SessionEntity) private readonly rows: Repository<SessionEntity>) {}

  find(sessionId: string): Promise<SessionEntity | null> {
    return this.rows.findOne({ where: { sessionId } });
  }

  list(): Promise<SessionEntity[]> {
    return this.rows.find({ order: { createdAt: 'ASC', sessionId: 'ASC' } });
  }

  /** Stores the session's status; `alongside` writes in the same transaction (the outbox's row of the change). */
  async save(sessionId: string, status: SessionStatus, lastError: string | null = null, me?: WaMe | null, alongside?: (manager: EntityManager) => Promise<void>): Promise<void> {
    const write = (manager: EntityManager) =>
      manager.upsert(SessionEntity, { sessionId, status, lastError, ...(me === undefined ? {} : { me }) }, { conflictPaths: ['sessionId'] });
    if (!alongside) {
      await write(this.rows.manager);
      return;
    }
    await this.rows.manager.transaction(async (manager) => {
      await write(manager);
      await alongside(manager);
    });
  }

  /**
   * Deletes the session's row, and with it its webhook setting (foreign key); `alongside` writes in
   * the same transaction, before the delete, so that it still sees that setting.
   */
  async delete(sessionId: string, alongside?: (manager: EntityManager) => Promise<void>): Promise<void> {
    await this.rows.manager.transaction(async (manager) => {
      await alongside?.(manager);
      await manager.delete(SessionEntity, { sessionId });
    });
  }

  /** After a restart no client is running: sessions that were live, but for `except`, are shown as stopped. */
  async markLiveAsStopped(except: string[] = []): Promise<number> {
    const result = await this.rows.update(
      { status: Not(In(['stopped', 'failed'])), ...(except.length ? { sessionId: Not(In(except)) } : {}) },
      { status: 'stopped' },
    );
    return result.affected ?? 0;
  }
}
