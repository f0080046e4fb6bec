import { ConflictException, Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { errorText } from '../common/error-text';
import { SessionService } from '../whatsapp/session/session.service';
import { HandoverChannel } from './handover-channel';
import { SessionLeaseService } from './session-lease.service';

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

  private async scanOnce(): Promise<void> {
    for (const lease of await this.leases.all()) {
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
