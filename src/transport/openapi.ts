import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** OpenAPI document and UI at `/docs` (JSON at `/docs-json`), generated from the DTOs. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('WhatsApp Sync API')
    .setDescription(
      'WhatsApp Web sessions, history synchronization into PostgreSQL, and stored chats and messages. ' +
        'Live progress is sent over Socket.IO on the same port: see README.md for the events.',
    )
    .setVersion('0.1.0')
    .addApiKey({ type: 'apiKey', name: 'x-api-key', in: 'header' }, 'api-key')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
}
