import { ConflictException, Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { errorText } from '../common/error-text';
import { SessionService } from '../whatsapp/session/session.service';
import { HandoverChannel } from './handover-channel';
import { SessionLeaseService } from './session-lease.service';

/** After an expiry by the database's clock, so that the scan finds the lease expired. */
const EXPIRY_SLACK_MS = 20;

/**
 * Takes over the sessions of instances that died or shut down: every third of the lease TTL, and at
 * once when an instance announces a hand-over, each free lease (expired, or left by a dead
 * predecessor on this host) of a logged-in session is claimed and its client started here; the
 * login comes from the shared store (WA_AUTH_STORE=postgres) and the catch-up run follows `ready`.
 * A session that was not logged in (waiting for a QR scan, say) is not started again: its lease is
 * dropped and its row shown stopped. Of several instances scanning at once, the claim lets exactly
 * one win each session.
 */
@Injectable()
export class SessionTakeoverService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SessionTakeoverService.name);
  private timer: NodeJS.Timeout | undefined;
  /** A scan at the moment the next lease of another instance expires, so a takeover never waits for the periodic one. */
  private atExpiry: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'instance'>,
    private readonly leases: SessionLeaseService,
    private readonly sessions: SessionService,
    private readonly channel: HandoverChannel,
  ) {}

  onApplicationBootstrap(): void {
    this.channel.listen(() => void this.scan());
    this.timer = setInterval(() => void this.scan(), Math.max(500, Math.floor(this.config.instance.leaseTtlMs / 3)));
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.atExpiry);
  }

  /** One scan at a time; a request meanwhile runs one more after it. */
  scan(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = this.scanOnce()
      .catch((error: unknown) => this.logger.warn(`takeover scan failed: ${errorText(error)}`))
      .finally(() => {
        this.scanning = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.scan();
        }
      });
    return this.scanning;
  }

  /**
   * The owner renews every third of the TTL, so a lease expires at most one TTL after its owner
   * died: scanning at that moment keeps a takeover within one TTL (plus the client's start).
   */
  private scanAtNextExpiry(expiresInMs: number[]): void {
    clearTimeout(this.atExpiry);
    if (expiresInMs.length === 0 || this.stopped) return;
    this.atExpiry = setTimeout(() => void this.scan(), Math.max(0, Math.min(...expiresInMs)) + EXPIRY_SLACK_MS);
    this.atExpiry.unref();
  }

  private async scanOnce(): Promise<void> {
    const leases = await this.leases.all();
    this.scanAtNextExpiry(leases.filter((lease) => !lease.free && lease.owner !== this.leases.instanceId).map((lease) => lease.expiresInMs));
    for (const lease of leases) {
      if (this.stopped) return;
      if (!lease.free) continue;
      const status = await this.sessions.storedStatus(lease.sessionId);
      if (status === 'ready' || status === 'authenticated') {
        this.logger.log(`taking over from ${lease.owner}`, { sessionId: lease.sessionId });
        await this.sessions.start(lease.sessionId).catch((error: unknown) => {
          // Another instance was quicker: the session is its now.
          if (error instanceof ConflictException) return;
          this.logger.warn(`takeover failed: ${errorText(error)}`, { sessionId: lease.sessionId });
        });
      } else {
        await this.sessions.abandonedElsewhere(lease.sessionId);
      }
    }
  }
}
