import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { Public } from '../transport/public.decorator';
import { HealthService, HealthReport } from './health.service';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** 200 when the database answers, 503 when it does not. Also under the API prefix. Never rate limited. */
  @Public()
  @SkipThrottle()
  @ApiOperation({ summary: 'Liveness and database readiness (no API key needed)' })
  @ApiResponse({ status: 200, description: 'The database answers' })
  @ApiResponse({ status: 503, description: 'The database does not answer' })
  @Get(['health', 'whatsapp-web/health'])
  async check(@Res({ passthrough: true }) response: Response): Promise<HealthReport> {
    const report = await this.health.check();
    response.status(report.status === 'ok' ? 200 : 503);
    return report;
  }
}
