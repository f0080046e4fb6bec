import { accessSync, constants, existsSync } from 'node:fs';

/** Where a browser usually is: Debian's Chromium first, then Google Chrome. */
const BROWSER_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
  '/snap/bin/chromium',
];

/**
 * The browser to drive: `CHROME_PATH` when set (it must exist), else the first installed candidate.
 * Throws a message that says what to install or set; puppeteer's own download is never used.
 */
export function findBrowser(configured: string | undefined, candidates: readonly string[] = BROWSER_CANDIDATES): string {
  if (configured) {
    if (!isExecutable(configured)) throw new Error(`CHROME_PATH ${configured} is not an executable file`);
    return configured;
  }
  const found = candidates.find(isExecutable);
  if (!found) {
    throw new Error(
      `No Chrome or Chromium found (looked for ${candidates.join(', ')}). ` +
        'Install one (Debian: apt-get install chromium) or set CHROME_PATH.',
    );
  }
  return found;
}

/**
 * Flags for a server: no sandbox as root (Chromium refuses to start otherwise) or in a container
 * (where its namespaces are not allowed without extra privileges), small /dev/shm in containers, and
 * no background traffic to Google's services.
 */
export function browserArgs(runningAsRoot: boolean, inContainer: boolean): string[] {
  return [
    ...(runningAsRoot || inContainer ? ['--no-sandbox', '--disable-setuid-sandbox'] : []),
    '--disable-dev-shm-usage',
    '--disable-gpu',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
}

/** Docker and Podman leave these marker files in every container. */
export function runningInContainer(markers: readonly string[] = ['/.dockerenv', '/run/.containerenv']): boolean {
  return markers.some((marker) => existsSync(marker));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
