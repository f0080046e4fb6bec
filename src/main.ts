import 'reflect-metadata';
import { bootstrap } from './bootstrap';

bootstrap().catch((error: unknown) => {
  // A bad configuration or an unreachable database: one clear message, then a non-zero exit.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
