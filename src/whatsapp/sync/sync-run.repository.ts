import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { SyncRunEntity } from '../../database/entities/sync-run.entity';
import { EndedStatus, SyncRunKind, SyncRunProgress } from './sync-run';

/** Sync run rows: one per run, updated a few times a run, never once per message. */
@Injectable()
export class SyncRunRepository {
  constructor(@InjectRepository(SyncRunEntity) private readonly rows: Repository<SyncRunEntity>) {}

  create(sessionId: string, limitPerChat: number, kind: SyncRunKind): Promise<SyncRunEntity> {
    return this.rows.save(
      this.rows.create({
        sessionId,
        limitPerChat,
        mode: kind.mode,
        trigger: kind.trigger,
        chatId: kind.chatId ?? null,
        status: 'running',
        nChats: 0,
        currentChat: 0,
        messagesSynced: 0,
        chatsFailed: 0,
        chatsSkipped: 0,
        chatsWithGap: 0,
        messagesInserted: 0,
        fetchCalls: 0,
        error: null,
        startedAt: new Date(),
        finishedAt: null,
      }),
    );
  }

  async updateProgress(id: string, progress: SyncRunProgress): Promise<void> {
    await this.rows.update({ id, status: 'running' }, progress);
  }

  /** Records the run's outcome; `alongside` writes in the same transaction (the outbox's row of the outcome). */
  async finish(id: string, status: EndedStatus, progress: SyncRunProgress, error: string | null, alongside?: (manager: EntityManager) => Promise<void>): Promise<void> {
    const write = (manager: EntityManager) => manager.update(SyncRunEntity, { id }, { ...progress, status, error, finishedAt: new Date() });
    if (!alongside) {
      await write(this.rows.manager);
      return;
    }
    await this.rows.manager.transaction(async (manager) => {
      await write(manager);
      await alongside(manager);
    });
  }

  latest(sessionId: string): Promise<SyncRunEntity | null> {
    return this.rows.findOne({ where: { sessionId }, order: { startedAt: 'DESC' } });
  }

  async deleteSession(sessionId: string, manager: EntityManager = this.rows.manager): Promise<void> {
    await manager.delete(SyncRunEntity, { sessionId });
  }

  /**
   * Runs left `running` by a process that died cannot be going on any more: those of `sessionId`
   * (a lease just claimed), or, without it, of every session that no live instance but `self` holds
   * (a start of the service; another instance's runs are its own).
   */
  async markRunningAsInterrupted(sessionId?: string, self?: string): Promise<number> {
    const [, affected] = (await this.rows.manager.query(
      `UPDATE sync_runs r SET status = 'interrupted', error = $3, finished_at = now()
       WHERE r.status = 'running' AND ($1::text IS NULL OR r.session_id = $1)
         AND ($2::text IS NULL OR NOT EXISTS (
           SELECT 1 FROM session_leases l WHERE l.session_id = r.session_id AND l.owner <> $2 AND l.expires_at > now()))`,
      [sessionId ?? null, self ?? null, 'The service stopped while this run was going'],
    )) as [unknown, number];
    return affected;
  }
}
