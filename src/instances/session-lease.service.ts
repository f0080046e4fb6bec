import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { errorText } from '../common/error-text';
import { LeaseLostError, SessionFence } from '../whatsapp/session/session-fence';
import { HandoverChannel } from './handover-channel';
import { Claimant, HeldLease, LeaseRepository, LeaseRow } from './lease.repository';

/** A lease this process holds: its generation, and until when (its own monotonic clock) it trusts it without the database. */
interface Held {
  generation: number;
  trustedUntil: number;
}

/** Who owns a session, as every instance sees it. */
export interface SessionOwner {
  owner: string;
  address: string | null;
  /** Whether the owner is this instance. */
  self: boolean;
}

/** Renewals tried while the database does not answer, this often. */
const RETRY_MS = 1000;

/**
 * Session leases of this instance: claims, renewals by heartbeat (every third of
 * SESSION_LEASE_TTL_MS), releases, and the fence every write of a session goes through.
 *
 * A lease is trusted by this process until its last renewal's start plus the TTL, less a margin,
 * by the process's monotonic clock: a process that was paused (SIGSTOP, a long GC, a VM frozen)
 * sees that clock jump and stops writing before it even reaches the database, where the lease
 * may belong to another instance by then. Losing a lease (not renewed in time, or taken) is reported
 * to `onLost`, which stops the session's client here.
 */
@Injectable()
export class SessionLeaseService extends SessionFence implements OnApplicationShutdown {
  private readonly logger = new Logger(SessionLeaseService.name);
  private readonly held = new Map<string, Held>();
  private readonly lostListeners: Array<(sessionId: string) => void> = [];
  private readonly claimant: Claimant;
  private readonly ttlMs: number;
  private readonly marginMs: number;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'instance'>,
    private readonly leases: LeaseRepository,
    private readonly channel: HandoverChannel,
  ) {
    super();
    this.claimant = { owner: config.instance.id, host: hostname(), pid: process.pid, address: config.instance.url ?? null };
    this.ttlMs = config.instance.leaseTtlMs;
    // Clocks of two machines drift apart by far less than this over one TTL.
    this.marginMs = Math.min(2000, Math.floor(this.ttlMs / 10));
  }

  get instanceId(): string {
    return this.claimant.owner;
  }

  /** Where the other instances reach this one, once known (INSTANCE_URL, or the address it listens on). */
  setAddress(address: string): void {
    if (this.claimant.address !== null) return;
    this.claimant.address = address;
    // The leases claimed before the server listened get the address now.
    void this.renewNow();
  }

  onLost(listener: (sessionId: string) => void): void {
    this.lostListeners.push(listener);
  }

  holds(sessionId: string): boolean {
    const lease = this.held.get(sessionId);
    return lease !== undefined && performance.now() < lease.trustedUntil;
  }

  async check(manager: EntityManager, sessionId: string): Promise<void> {
    const lease = this.held.get(sessionId);
    if (!lease || performance.now() >= lease.trustedUntil || !(await this.leases.stillHeld(manager, sessionId, this.claimant.owner, lease.generation))) {
      throw new LeaseLostError(sessionId);
    }
  }

  /**
   * Claims the session for this instance: true when it is this instance's now (already held, or
   * claimed), false when another live instance holds it.
   */
  async claim(sessionId: string): Promise<boolean> {
    if (this.holds(sessionId)) return true;
    const current = await this.leases.find(sessionId);
    const dead = current && this.isDeadPredecessor(current) ? [current.owner] : [];
    const started = performance.now();
    const generation = await this.leases.claim(sessionId, this.claimant, this.ttlMs, dead);
    if (generation === null) return false;
    this.held.set(sessionId, { generation, trustedUntil: started + this.ttlMs - this.marginMs });
    this.logger.log(`lease claimed (generation ${generation}${current && current.owner !== this.claimant.owner ? `, from ${current.owner}` : ''})`, { sessionId });
    this.schedule(this.ttlMs / 3);
    return true;
  }

  /** Gives the session up: nobody runs it until it is started again. */
  async release(sessionId: string): Promise<void> {
    const lease = this.held.get(sessionId);
    if (!lease) return;
    this.held.delete(sessionId);
    await this.leases.drop(sessionId, this.claimant.owner, lease.generation);
  }

  /** Drops the session's lease if it is free (expired, or left by a dead predecessor here): nobody is to run it. */
  async dropFree(sessionId: string): Promise<void> {
    const row = await this.leases.find(sessionId);
    if (row && (!row.live || this.isDeadPredecessor(row))) await this.leases.dropGeneration(sessionId, row.generation);
  }

  /** Forgets the session here without a write (its client stopped because the lease was lost). */
  forget(sessionId: string): void {
    this.held.delete(sessionId);
  }

  /**
   * The shutdown: every lease ends now, kept with its owner's name, so that another instance takes
   * the sessions over at once rather than after the TTL. Nothing here writes for them afterwards.
   */
  async handOver(): Promise<string[]> {
    this.stopped = true;
    clearTimeout(this.timer);
    const held = this.heldList();
    this.held.clear();
    if (held.length === 0) return [];
    await this.leases.expire(this.claimant.owner, held);
    await this.channel.notify();
    return held.map((h) => h.sessionId);
  }

  /** The live owner of the session, or `null` when nobody holds it (never claimed, stopped, expired). */
  async ownerOf(sessionId: string): Promise<SessionOwner | null> {
    if (this.holds(sessionId)) return { owner: this.claimant.owner, address: this.claimant.address, self: true };
    const row = await this.leases.find(sessionId);
    return row && row.live && !this.isDeadPredecessor(row) ? { owner: row.owner, address: row.address, self: row.owner === this.claimant.owner } : null;
  }

  /** Every lease as stored, with whether it is free to take (expired, or its holder is a dead predecessor here). */
  async all(): Promise<Array<LeaseRow & { free: boolean }>> {
    const rows = await this.leases.all();
    return rows.map((row) => ({ ...row, free: !row.live || this.isDeadPredecessor(row) }));
  }

  /** Renewals go on through the shutdown's first steps (the clients close while their leases hold), and end here. */
  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * A lease that its holder left behind: one in this instance's name that this process does not
   * hold (a predecessor restarted under the same INSTANCE_ID), or one of a dead process on this
   * host (same machine, so its pid means something here).
   */
  private isDeadPredecessor(row: LeaseRow): boolean {
    if (row.owner === this.claimant.owner) return !this.held.has(row.sessionId);
    if (row.host !== this.claimant.host || row.pid === process.pid) return false;
    try {
      process.kill(row.pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  private heldList(): HeldLease[] {
    return [...this.held].map(([sessionId, { generation }]) => ({ sessionId, generation }));
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.renewNow();
    }, ms);
    this.timer.unref();
  }

  private renewNow(): Promise<void> {
    this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /** One heartbeat: renews every held lease; those not renewed are lost. */
  private async renew(): Promise<void> {
    const held = this.heldList();
    if (held.length === 0) return;
    const started = performance.now();
    try {
      const renewed = await this.leases.renew(this.claimant.owner, held, this.ttlMs, this.claimant.address);
      for (const { sessionId, generation } of held) {
        const lease = this.held.get(sessionId);
        if (lease?.generation !== generation) continue; // released or claimed again meanwhile
        if (renewed.has(sessionId)) lease.trustedUntil = started + this.ttlMs - this.marginMs;
        else this.lose(sessionId, 'taken over or expired');
      }
      this.schedule(this.ttlMs / 3);
    } catch (error) {
      // The database does not answer: the leases hold until their trusted time runs out.
      for (const [sessionId, lease] of this.held) if (performance.now() >= lease.trustedUntil) this.lose(sessionId, `not renewed in time (${errorText(error)})`);
      this.logger.warn(`lease renewal failed, trying again in ${RETRY_MS} ms: ${errorText(error)}`);
      this.schedule(RETRY_MS);
    }
  }

  private lose(sessionId: string, why: string): void {
    this.held.delete(sessionId);
    this.logger.warn(`lease lost (${why}): the session's client stops here and nothing more is written for it`, { sessionId });
    for (const listener of this.lostListeners) listener(sessionId);
  }
}
