import 'reflect-metadata';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/app-config';
import { SimulatedWhatsappClientFactory } from '../src/whatsapp/client/simulated/simulated-whatsapp.factory';
import { MediaAccountOptions, mediaAccount } from './media-account';

/**
 * The service as main.ts builds it (createApp, the environment's configuration), in a process of its
 * own, with the media bench's generated account (BENCH_MEDIA_ACCOUNT, JSON) as the simulated phone.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const options = JSON.parse(process.env.BENCH_MEDIA_ACCOUNT ?? '') as MediaAccountOptions;
  const app = await createApp(config, { clientFactory: new SimulatedWhatsappClientFactory(mediaAccount(options)) });
  await app.listen(config.port, config.host);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
