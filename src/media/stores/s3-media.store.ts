import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, NoSuchKey, NotFound, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { S3Config } from '../../config/app-config';
import { ByteRange, MediaObjectMissingError, MediaStore } from './media-store';

/** A store that does not answer fails the attempt in this time, so that the download is retried later. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * MEDIA_STORE=s3: one object per SHA-256, key `media/<sha256>`, through @aws-sdk/client-s3. S3 makes
 * an object visible only once its PUT completed: a reader never sees part of one.
 */
export class S3MediaStore implements MediaStore {
  readonly kind = 's3';
  private readonly client: S3Client;

  constructor(private readonly config: S3Config) {
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      credentials: config.accessKeyId && config.secretAccessKey ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } : undefined,
      // The queue retries with its own back-off; the SDK tries once more at most.
      maxAttempts: 2,
      requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS, connectionTimeout: 5000 },
    });
  }

  async put(sha256: string, data: Buffer, mimetype: string): Promise<void> {
    const key = keyOf(sha256);
    if (await this.exists(key)) return;
    await this.client.send(new PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: data, ContentType: mimetype, ContentLength: data.length }));
  }

  async read(sha256: string, range?: ByteRange): Promise<Readable> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: keyOf(sha256), Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      if (!(answer.Body instanceof Readable)) throw new Error('the S3 answer has no readable body');
      return answer.Body;
    } catch (error) {
      if (isMissing(error)) throw new MediaObjectMissingError(sha256);
      throw error;
    }
  }

  async delete(sha256: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: keyOf(sha256) }));
  }

  /** Closes the SDK's sockets (NestJS calls this at shutdown: the store is a provider). */
  onApplicationShutdown(): void {
    this.client.destroy();
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }
}

function keyOf(sha256: string): string {
  return `media/${sha256}`;
}

function isMissing(error: unknown): boolean {
  return error instanceof NoSuchKey || error instanceof NotFound || (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404);
}
