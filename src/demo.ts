import 'reflect-metadata';
import { bootstrap } from './bootstrap';
import { DEMO_ACCOUNT_NAME } from './whatsapp/client/simulated/demo-account';

/**
 * `npm run demo`: the service on the simulated provider with the built-in demo account, so a person
 * can click through start, QR, sync and chats without a phone.
 */
process.env.WA_PROVIDER = 'simulated';
process.env.SIMULATED_ACCOUNT ??= DEMO_ACCOUNT_NAME;

bootstrap().then(
  (url) => {
    console.log(`\n  Demo running. Open ${url}/ in a browser (API docs at ${url}/docs).`);
    console.log('  Start a session, wait for the simulated QR scan, then press Sync. Ctrl+C stops it.\n');
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
