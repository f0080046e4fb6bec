import { Injectable } from '@nestjs/common';

/**
 * Tells idle download workers that rows were queued (committed), so that a live message's media is
 * fetched at once rather than at the next poll. In process only: other instances find the rows at
 * their next poll.
 */
@Injectable()
export class MediaWakeup {
  private waiting: Array<() => void> = [];

  wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }

  /** Resolves at the next `wake()`, or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== done);
        resolve();
      }, ms);
      this.waiting.push(done);
    });
  }
}
