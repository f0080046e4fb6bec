import { DynamicModule, Module, Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { WhatsappClientFactory } from './whatsapp-client.port';
import { SimulatedWhatsappClientFactory } from './simulated/simulated-whatsapp.factory';
import { SimulatedAccount, loadAccountFile } from './simulated/simulated-account';
import { generateAccount } from './simulated/generated-account';
import { DEMO_ACCOUNT_NAME, demoAccount } from './simulated/demo-account';
import { WwebjsWhatsappClientFactory } from './wwebjs/wwebjs-whatsapp.factory';
import { PostgresAuthStore } from './wwebjs/postgres-auth.store';

/** Binds the `WhatsappClientFactory` token to the provider named by `WA_PROVIDER`. */
const clientFactoryProvider: Provider = {
  provide: WhatsappClientFactory,
  inject: [APP_CONFIG, DataSource],
  useFactory: (config: AppConfig, dataSource: DataSource): WhatsappClientFactory => {
    if (config.waProvider === 'simulated') return new SimulatedWhatsappClientFactory(simulatedAccount(config));
    const store = config.wwebjs.authStore === 'postgres' ? new PostgresAuthStore(dataSource, config.wwebjs.dataDir) : undefined;
    return new WwebjsWhatsappClientFactory(config.wwebjs, store);
  },
};

function simulatedAccount(config: AppConfig): SimulatedAccount {
  if (config.simulatedAccountPath === DEMO_ACCOUNT_NAME) return demoAccount();
  if (config.simulatedAccountPath) return loadAccountFile(config.simulatedAccountPath);
  return generateAccount({
    chats: config.simulatedChats,
    messagesPerChat: config.simulatedMessagesPerChat,
    fetchLatencyMs: config.simulatedFetchLatencyMs,
  });
}

@Module({})
export class WhatsappClientModule {
  /** `override` replaces the configured provider (tests and benchmarks). */
  static forRoot(override?: WhatsappClientFactory): DynamicModule {
    const provider = override ? { provide: WhatsappClientFactory, useValue: override } : clientFactoryProvider;
    return { module: WhatsappClientModule, providers: [provider], exports: [WhatsappClientFactory] };
  }
}
