import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'publicRoute';
/** Marks a route that needs no API key (health checks). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
