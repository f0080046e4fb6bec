import { Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { FsMediaStore } from './fs-media.store';
import { MEDIA_STORE, MediaStore } from './media-store';
import { PostgresMediaStore } from './postgres-media.store';
import { S3MediaStore } from './s3-media.store';

/** The store MEDIA_STORE names (validated at boot: see app-config.ts). */
export function createMediaStore(config: AppConfig, dataSource: DataSource): MediaStore {
  const store = config.media.store;
  switch (store.type) {
    case 'postgres':
      return new PostgresMediaStore(dataSource);
    case 'fs':
      return new FsMediaStore(store.folder);
    case 's3':
      return new S3MediaStore(store);
  }
}

export const mediaStoreProvider: Provider = {
  provide: MEDIA_STORE,
  inject: [APP_CONFIG, getDataSourceToken()],
  useFactory: createMediaStore,
};
