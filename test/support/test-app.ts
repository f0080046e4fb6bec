import { INestApplication } from '@nestjs/common';
import type { Server } from 'socket.io';
import { io, Socket } from 'socket.io-client';
import { createApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/app-config';
import { SimulatedAccount, SimulatedAccountSpec, accountFromSpec } from '../../src/whatsapp/client/simulated/simulated-account';
import { ClientFactoryBuilder } from '../../src/whatsapp/client/whatsapp-client.module';
import { SimulatedTestClientFactory } from './client-factories';
import { SqlStatementRecorder } from './sql-statement-recorder';
import { WhatsappWebGateway } from '../../src/whatsapp/whatsapp-web.gateway';
import { TestDatabase } from './test-database';
import { waitFor } from './wait';

export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestAppOptions {
  /** The simulated account, as a spec (fixtures) or built (the demo account). */
  account: SimulatedAccountSpec | SimulatedAccount;
  env?: Record<string, string>;
  database?: TestDatabase;
  /**
   * Another provider (the whatsapp-web.js adapter on a fake page), built from the app's config and
   * the login store `WA_AUTH_STORE` selects; `whatsapp` then stays unused.
   */
  clientFactory?: ClientFactoryBuilder;
  /** The port to listen on (127.0.0.1); default: any free one. */
  port?: number;
}

/**
 * The real application on a real port and a real database, with WhatsApp simulated: what a client
 * outside the code base sees.
 */
export class TestApp {
  readonly sockets: Socket[] = [];

  private constructor(
    readonly app: INestApplication,
    readonly baseUrl: string,
    readonly db: TestDatabase,
    /** The simulated provider: replace its account, hold its fetches, reach its clients. */
    readonly whatsapp: SimulatedTestClientFactory,
    /** The app's TypeORM logger: records the SQL statements sent once asked to. */
    readonly sql: SqlStatementRecorder,
    private readonly ownsDatabase: boolean,
  ) {}

  static async start(options: TestAppOptions): Promise<TestApp> {
    const db = options.database ?? (await TestDatabase.create());
    // SYNC_ON_READY is off unless a test turns it on: the suites of manual runs see only the runs they
    // start (production's default, `incremental`, is tested in test/catch-up.e2e-spec.ts).
    const config = loadConfig({ WA_PROVIDER: 'simulated', DATABASE_URL: db.url, DB_POOL_SIZE: '5', SYNC_ON_READY: 'off', ...options.env });
    // With WA_PROVIDER=wwebjs in `env` (and no `clientFactory`), the app builds its provider itself, as in production.
    const useConfigured = options.env?.WA_PROVIDER === 'wwebjs';
    const account = 'newestMessages' in (options.account.chats[0] ?? {}) ? (options.account as SimulatedAccount) : accountFromSpec(options.account as SimulatedAccountSpec);
    const whatsapp = new SimulatedTestClientFactory(account);
    const sql = new SqlStatementRecorder();
    const clientFactory = options.clientFactory ?? (useConfigured ? undefined : whatsapp);
    const app = await createApp(config, { clientFactory, typeormLogger: sql, logger: false });
    await app.listen(options.port ?? 0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    return new TestApp(app, `http://127.0.0.1:${address.port}`, db, whatsapp, sql, options.database === undefined);
  }

  async request<T = unknown>(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<HttpAnswer<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers: init.headers, body: init.body });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: body as T, headers: response.headers };
  }

  /** A connected Socket.IO client, closed with the app. */
  async socket(auth?: Record<string, string>): Promise<Socket> {
    const socket = io(this.baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
    this.sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket;
  }

  /** A connected socket in `sessionId`'s room, and the log of everything it receives from the join on. */
  async joined(sessionId: string): Promise<{ socket: Socket; log: EventLog }> {
    const socket = await this.socket();
    const log = new EventLog(socket);
    expect(await emitWithAck(socket, 'join-session', { sessionId })).toEqual({ ok: true });
    return { socket, log };
  }

  /** Starts a session and waits until the simulated scan made it `ready`. */
  async readySession(sessionId: string): Promise<void> {
    const started = await this.request('POST', `/whatsapp-web/session/${sessionId}/start`);
    if (started.status !== 201) throw new Error(`start ${sessionId}: ${started.status} ${JSON.stringify(started.body)}`);
    await waitFor(async () => {
      const { body } = await this.request<{ status: string }>('GET', `/whatsapp-web/session/${sessionId}`);
      return body.status === 'ready';
    }, `session ${sessionId} ready`);
  }

  /** The app's Socket.IO server, to observe from inside what sockets are sent (tests only). */
  io(): Server {
    return (this.app.get(WhatsappWebGateway) as unknown as { server: Server }).server;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.close();
    await this.app.close();
    if (this.ownsDatabase) await this.db.drop();
  }
}

/** Emits and resolves with the acknowledgement. */
export function emitWithAck<T>(socket: Socket, event: string, ...args: unknown[]): Promise<T> {
  return new Promise((resolve) => socket.emit(event, ...args, (answer: T) => resolve(answer)));
}

/** Everything the server sent `socket` before now has arrived once this acknowledgement has. */
export async function settled(socket: Socket): Promise<void> {
  expect(await emitWithAck(socket, 'leave-session', { sessionId: 'barrier-room' })).toEqual({ ok: true });
}

/** Records every event a socket receives, in arrival order. */
export class EventLog {
  readonly events: Array<{ event: string; payload: unknown }> = [];

  constructor(socket: Socket) {
    socket.onAny((event: string, payload: unknown) => this.events.push({ event, payload }));
  }

  of<T = Record<string, unknown>>(event: string): T[] {
    return this.events.filter((e) => e.event === event).map((e) => e.payload as T);
  }

  /** Resolves once `count` events named `event` arrived. */
  async waitFor(event: string, count = 1): Promise<void> {
    await waitFor(() => this.of(event).length >= count, `${count} × ${event}`);
  }
}
