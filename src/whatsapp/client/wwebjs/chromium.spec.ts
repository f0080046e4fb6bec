import { browserArgs, findBrowser, runningInContainer } from './chromium';

describe('findBrowser', () => {
  it('uses CHROME_PATH when it is executable', () => {
    expect(findBrowser('/bin/sh')).toBe('/bin/sh');
  });

  it('refuses a CHROME_PATH that is not there', () => {
    expect(() => findBrowser('/nope/chrome')).toThrow('CHROME_PATH /nope/chrome is not an executable file');
  });

  it('takes the first installed candidate', () => {
    expect(findBrowser(undefined, ['/nope/a', '/bin/sh', '/bin/ls'])).toBe('/bin/sh');
  });

  it('says what to install when none is found', () => {
    expect(() => findBrowser(undefined, ['/nope/a'])).toThrow(
      'No Chrome or Chromium found (looked for /nope/a). Install one (Debian: apt-get install chromium) or set CHROME_PATH.',
    );
  });
});

describe('browserArgs', () => {
  it('disables the sandbox only as root or in a container', () => {
    expect(browserArgs(true, false)).toEqual(expect.arrayContaining(['--no-sandbox', '--disable-setuid-sandbox', '--disable-dev-shm-usage']));
    expect(browserArgs(false, true)).toEqual(expect.arrayContaining(['--no-sandbox', '--disable-setuid-sandbox']));
    expect(browserArgs(false, false)).not.toContain('--no-sandbox');
  });
});

describe('runningInContainer', () => {
  it('looks for the marker files container engines leave', () => {
    expect(runningInContainer(['/nope/.dockerenv'])).toBe(false);
    expect(runningInContainer(['/nope/.dockerenv', '/bin/sh'])).toBe(true);
  });
});
