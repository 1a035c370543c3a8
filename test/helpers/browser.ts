/**
 * Debian's Chromium driven by playwright-core (which never downloads a browser). The binary is the one
 * `dpkg -L chromium` lists; each launch gets its own fresh profile folder (playwright makes it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export function chromiumPath(): string {
  let listed: string[] = [];
  try {
    listed = execFileSync('dpkg', ['-L', 'chromium'], { encoding: 'utf8' }).split('\n');
  } catch {
    throw new Error('Debian package chromium is not installed: apt-get install -y chromium (.ci/run does it)');
  }
  const binary = listed.find((p) => p === '/usr/bin/chromium') ?? listed.find((p) => /\/bin\/chromium$/.test(p));
  if (!binary || !existsSync(binary)) throw new Error(`dpkg -L chromium lists no chromium binary (looked for /usr/bin/chromium)`);
  return binary;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
