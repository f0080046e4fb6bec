import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { apiKeyMatches } from '../transport/api-key';

/**
 * `GET /metrics` (marked `@Public()`, so the API key guard leaves it to this one): open when neither
 * `API_KEY` nor `METRICS_TOKEN` is set; otherwise it needs the API key in `x-api-key`, or
 * `Authorization: Bearer <METRICS_TOKEN>`, so that a Prometheus server can scrape without the key
 * that controls the sessions.
 */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'apiKey' | 'metricsToken'>) {}

  canActivate(context: ExecutionContext): boolean {
    const { apiKey, metricsToken } = this.config;
    if (!apiKey && !metricsToken) return true;
    const request = context.switchToHttp().getRequest<Request>();
    if (apiKey && apiKeyMatches(apiKey, request.headers['x-api-key'])) return true;
    if (metricsToken && apiKeyMatches(metricsToken, bearerToken(request.headers.authorization))) return true;
    throw new UnauthorizedException(metricsToken ? 'A valid x-api-key header or bearer token is required' : 'A valid x-api-key header is required');
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
