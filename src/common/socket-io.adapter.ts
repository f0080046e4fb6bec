import { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';
import { AppConfig } from '../config/app-config';

/** Socket.IO on the HTTP server's port, with the same CORS origins as REST. */
export class SocketIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const origin = this.config.corsOrigins === '*' ? true : this.config.corsOrigins;
    return super.createIOServer(port, { ...options, cors: { origin, credentials: true } }) as Server;
  }
}
