import { CreateDateColumn, UpdateDateColumn } from 'typeorm';

/** `created_at` and `updated_at`, kept by the database (`updated_at` also by every upsert that changes a row). */
export abstract class Timestamped {
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
