/** Debian's chromium driven by playwright-core (no browser download: .ci/run installs the package). */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.TEST_CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether browser tests may run: outside CI a missing chromium skips them; under CI=true it is a
 * failure (.ci/run installs it).
 */
export function browserAvailable(): boolean {
  const ok = existsSync(CHROMIUM_PATH);
  if (!ok && process.env.CI === 'true') throw new Error(`${CHROMIUM_PATH} is missing, and browser tests may not skip under CI=true (apt-get install chromium)`);
  return ok;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // The machine's network is closed: without these, chromium keeps trying to reach Google's hosts.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
