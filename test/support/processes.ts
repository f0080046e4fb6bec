import { execFileSync } from 'node:child_process';

/** Command lines of the running Chromium processes whose arguments contain `marker`. */
export function chromiumProcesses(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => /chrom(e|ium)/i.test(line) && line.includes(marker));
}
