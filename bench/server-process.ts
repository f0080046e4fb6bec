import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../test/setup/test-postgres';

/** The built service (`dist/main.js`) in its own process, so that its memory is its own. */
export class ServerProcess {
  private peakRssBytes = 0;
  /** Output lines dropped by the `quiet` filter of `start`. */
  quietLines = 0;
  private sampler: NodeJS.Timeout | undefined;

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {}

  /**
   * The bench measures the runs it starts: no automatic catch-up (SYNC_ON_READY=off) unless `env` sets one.
   * `quiet`: output lines that match are dropped (counted in `quietLines`), for a log line a
   * measurement provokes on purpose many times a second; the rest is printed as it comes.
   * `entry`: the node arguments that start it (default the built `dist/main.js`).
   */
  static async start(env: Record<string, string>, { quiet, entry = [join(__dirname, '..', 'dist', 'main.js')] }: { quiet?: RegExp; entry?: string[] } = {}): Promise<ServerProcess> {
    const port = await freePort();
    // BENCH_SERVER_NODE_ARGS: extra node flags for the server, e.g. `--cpu-prof` to profile a run.
    const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, ...entry], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', WA_PROVIDER: 'simulated', LOG_LEVEL: 'warn', RESTORE_SESSIONS: 'false', SYNC_ON_READY: 'off', ...env },
      stdio: ['ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
    });
    const server = new ServerProcess(`http://127.0.0.1:${port}`, child);
    if (quiet) {
      server.passOn(child.stdout, process.stdout, quiet);
      server.passOn(child.stderr, process.stderr, quiet);
    }
    const deadline = Date.now() + 60_000;
    while (!(await server.healthy())) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('server did not start within 60 s');
      await delay(100);
    }
    return server;
  }

  /** Resident memory of the server process now (Linux /proc). */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    return kb * 1024;
  }

  /** CPU seconds (user + system) the server process has used so far (Linux /proc). */
  cpuSeconds(): number {
    const fields = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 a second here).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  /** Samples RSS every 50 ms until `stopSampling`; returns the peak. */
  startSampling(): void {
    this.peakRssBytes = this.rssBytes();
    this.sampler = setInterval(() => {
      this.peakRssBytes = Math.max(this.peakRssBytes, this.rssBytes());
    }, 50);
  }

  stopSampling(): number {
    clearInterval(this.sampler);
    return Math.max(this.peakRssBytes, this.rssBytes());
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** The process dies at once (SIGKILL): no shutdown, its leases left as they were. Resolves once it is gone (reaped). */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    clearInterval(this.sampler);
    // A process killed by a signal has no exit code, only a signal code.
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill(signal);
    await exited;
  }

  private passOn(from: Readable | null, to: Writable, quiet: RegExp): void {
    from?.pipe(split()).on('data', (line: string) => {
      if (quiet.test(line)) this.quietLines++;
      else to.write(`${line}\n`);
    });
  }

  private async healthy(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/health`)).ok;
    } catch {
      return false;
    }
  }
}

/** Text in, one line per chunk out (without its newline). */
function split(): Transform {
  let rest = '';
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _encoding, done) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.push(line);
      done();
    },
    flush(done) {
      if (rest) this.push(rest);
      done();
    },
  });
}
