/** Runs a task at most once per interval: `maybe()` runs it when the interval has passed since it last ran. */
export class Throttle {
  private last = Date.now();

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<void> | void,
  ) {}

  async maybe(): Promise<void> {
    if (Date.now() - this.last < this.intervalMs) return;
    this.last = Date.now();
    await this.task();
  }
}
