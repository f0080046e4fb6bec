import { Global, Module } from '@nestjs/common';
import { SessionFence } from '../whatsapp/session/session-fence';
import { HandoverChannel } from './handover-channel';
import { LeaseRepository } from './lease.repository';
import { OwnerForwarding } from './owner-forwarding';
import { SessionLeaseService } from './session-lease.service';
import { SessionTakeoverService } from './session-takeover.service';

/**
 * Several instances on one PostgreSQL: who owns each session (leases), the fence of every session
 * write, takeover of the sessions of instances that are gone, and REST calls sent on to the owner.
 */
@Global()
@Module({
  providers: [LeaseRepository, SessionLeaseService, { provide: SessionFence, useExisting: SessionLeaseService }, HandoverChannel, SessionTakeoverService, OwnerForwarding],
  exports: [SessionLeaseService, SessionFence, HandoverChannel, OwnerForwarding],
})
export class InstancesModule {}
