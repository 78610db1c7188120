/**
 * Headless Chromium for browser tests: Debian's build driven by playwright-core. `.ci/run` installs
 * the `chromium` package when a test calls `launchChromium`. The flags keep it from reaching for
 * Google's services, which this machine's closed network refuses; playwright gives each browser a
 * new, empty profile directory.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { quietChromiumArgs } from '../../core/reports/render/pdf.ts';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why browser tests cannot run here, or null when they can. */
export const chromiumMissing: string | null = existsSync(chromiumPath) ? null : `no Chromium at ${chromiumPath} (install Debian's chromium or set CHROMIUM_PATH)`;

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [...quietChromiumArgs],
  });
}

/** Where screenshots go for a person to look at: tmp/screenshots (ignored by git). */
export function screenshotPath(name: string): string {
  return join(process.cwd(), 'tmp', 'screenshots', `${name}.png`);
}
