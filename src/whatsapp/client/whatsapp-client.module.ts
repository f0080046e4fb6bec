import { DynamicModule, Module, Provider } from '@nestjs/common';
import type { Store } from 'whatsapp-web.js';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { WhatsappClientFactory } from './whatsapp-client.port';
import { SimulatedWhatsappClientFactory } from './simulated/simulated-whatsapp.factory';
import { SimulatedAccount, loadAccountFile } from './simulated/simulated-account';
import { generateAccount } from './simulated/generated-account';
import { DEMO_ACCOUNT_NAME, demoAccount } from './simulated/demo-account';
import { WwebjsWhatsappClientFactory } from './wwebjs/wwebjs-whatsapp.factory';
import { AuthSessionRepository } from './wwebjs/auth-session.repository';
import { PostgresAuthStore } from './wwebjs/postgres-auth.store';
import { PostgresSimulatedLogins } from './simulated/postgres-simulated-logins';

/**
 * Builds a provider from the configuration and the whatsapp-web.js login store that `WA_AUTH_STORE`
 * selects (`postgres`: the store on PostgreSQL; otherwise none: logins stay on disk).
 */
export type ClientFactoryBuilder = (config: AppConfig, authStore: Store | undefined) => WhatsappClientFactory;

/** Replaces the provider chosen by `WA_PROVIDER`: a factory, or how to build one (tests, benchmarks). */
export type ClientFactoryOverride = WhatsappClientFactory | ClientFactoryBuilder;

/** The provider named by `WA_PROVIDER`; with WA_AUTH_STORE=postgres the simulated one keeps its logins there too. */
function configuredFactory(config: AppConfig, authStore: Store | undefined, authSessions: AuthSessionRepository): WhatsappClientFactory {
  if (config.waProvider !== 'simulated') return new WwebjsWhatsappClientFactory(config.wwebjs, authStore);
  return new SimulatedWhatsappClientFactory(simulatedAccount(config), config.wwebjs.authStore === 'postgres' ? new PostgresSimulatedLogins(authSessions) : undefined);
}

function simulatedAccount(config: AppConfig): SimulatedAccount {
  if (config.simulatedAccountPath === DEMO_ACCOUNT_NAME) return demoAccount();
  if (config.simulatedAccountPath) return loadAccountFile(config.simulatedAccountPath);
  return generateAccount({
    chats: config.simulatedChats,
    messagesPerChat: config.simulatedMessagesPerChat,
    fetchLatencyMs: config.simulatedFetchLatencyMs,
  });
}

/** Binds the `WhatsappClientFactory` token to the provider named by `WA_PROVIDER`, or to `override`. */
function clientFactoryProvider(override: ClientFactoryOverride | undefined): Provider {
  if (override instanceof WhatsappClientFactory) return { provide: WhatsappClientFactory, useValue: override };
  return {
    provide: WhatsappClientFactory,
    inject: [APP_CONFIG, AuthSessionRepository],
    useFactory: (config: AppConfig, authSessions: AuthSessionRepository): WhatsappClientFactory => {
      const authStore = config.wwebjs.authStore === 'postgres' ? new PostgresAuthStore(authSessions, config.wwebjs.dataDir) : undefined;
      return override ? override(config, authStore) : configuredFactory(config, authStore, authSessions);
    },
  };
}

@Module({})
export class WhatsappClientModule {
  /** `override` replaces the configured provider (tests and benchmarks). */
  static forRoot(override?: ClientFactoryOverride): DynamicModule {
    return { module: WhatsappClientModule, providers: [AuthSessionRepository, clientFactoryProvider(override)], exports: [WhatsappClientFactory] };
  }
}
