import { DynamicModule, Module, Provider } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { WhatsappClientFactory } from './whatsapp-client.port';
import { SimulatedWhatsappClientFactory } from './simulated/simulated-whatsapp.factory';
import { loadAccountFile } from './simulated/simulated-account';
import { generateAccount } from './simulated/generated-account';
import { DEMO_ACCOUNT_NAME, demoAccount } from './simulated/demo-account';
import { WwebjsNotAvailableFactory } from './wwebjs/wwebjs-not-available.factory';

/** Binds the `WhatsappClientFactory` token to the provider named by `WA_PROVIDER`. */
const clientFactoryProvider: Provider = {
  provide: WhatsappClientFactory,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig): WhatsappClientFactory => {
    if (config.waProvider === 'simulated') {
      const account =
        config.simulatedAccountPath === DEMO_ACCOUNT_NAME
          ? demoAccount()
          : config.simulatedAccountPath
            ? loadAccountFile(config.simulatedAccountPath)
            : generateAccount({ chats: config.simulatedChats, messagesPerChat: config.simulatedMessagesPerChat });
      return new SimulatedWhatsappClientFactory(account);
    }
    return new WwebjsNotAvailableFactory();
  },
};

@Module({})
export class WhatsappClientModule {
  /** `override` replaces the configured provider (tests and benchmarks drive a simulated account). */
  static forRoot(override?: WhatsappClientFactory): DynamicModule {
    const provider = override ? { provide: WhatsappClientFactory, useValue: override } : clientFactoryProvider;
    return { module: WhatsappClientModule, providers: [provider], exports: [WhatsappClientFactory] };
  }
}
