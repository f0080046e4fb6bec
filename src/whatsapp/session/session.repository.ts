import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Not, Repository } from 'typeorm';
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

  async save(sessionId: string, status: SessionStatus, lastError: string | null = null, me?: WaMe | null): Promise<void> {
    await this.rows.upsert(
      { sessionId, status, lastError, ...(me === undefined ? {} : { me }) },
      { conflictPaths: ['sessionId'] },
    );
  }

  async delete(sessionId: string): Promise<void> {
    await this.rows.delete({ sessionId });
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
