import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { apiKeyMatches } from './api-key';
import { PUBLIC_ROUTE } from './public.decorator';

/** With `API_KEY` set, every REST route but those marked `@Public()` needs the `x-api-key` header. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const apiKey = this.config.apiKey;
    if (!apiKey || context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<Request>();
    if (apiKeyMatches(apiKey, request.headers['x-api-key'])) return true;
    throw new UnauthorizedException('A valid x-api-key header is required');
  }
}
