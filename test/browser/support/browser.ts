import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { AuthService } from '../../../src/modules/auth/service.ts';
import { STRONG_PASSWORD, startHavenWith, type TestHaven } from '../../support/haven.ts';
import { freePort } from '../../support/processes.ts';
import { TotpClock } from '../../support/two-factor.ts';

export const CHROMIUM = process.env.HAVEN_CHROMIUM ?? '/usr/bin/chromium';
export const TEST_WEB_DIR = path.resolve('node_modules/.cache/haven-web-test');

/**
 * The browser suite needs Debian's Chromium. Where it is missing the suite is skipped with a
 * message, unless HAVEN_REQUIRE_BROWSER=1 (set by CI), where a missing browser fails the run.
 */
export const browserAvailable = existsSync(CHROMIUM);
if (!browserAvailable) {
  const message = `Browser tests need Chromium at ${CHROMIUM} (apt-get install chromium)`;
  if (process.env.HAVEN_REQUIRE_BROWSER === '1') throw new Error(message);
  console.warn(`${message}; skipping them.`);
}

export const describeInBrowser = browserAvailable ? describe : describe.skip;

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/**
 * Chromium as a UK school's browser: its own language decides how date inputs are shown, so it
 * runs in British English (Debian's `chromium-l10n` carries the en-GB resources).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    env: { ...process.env, LANG: 'en_GB.UTF-8', LANGUAGE: 'en_GB' },
    args: [
      '--lang=en-GB',
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export interface BrowserHaven {
  haven: TestHaven;
  /** The server's address, e.g. http://127.0.0.1:40123 */
  url: string;
  browser: Browser;
  /** The time the server checks TOTP codes against (moved by the test). */
  clock: TotpClock;
  /** A fresh browser profile (no cookies) with one page. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
}

/**
 * One Haven on a real port, and one Chromium, for each test of the calling file; each test
 * starts from an empty database and sets up what it needs. Errors thrown in a page fail the test.
 */
export function useBrowserHaven(
  overrides: Record<string, string> | (() => Record<string, string>) = {},
  options: {
    /**
     * Listen on a port chosen before the server starts, and tell the server its own address
     * (`HAVEN_PUBLIC_URL`), for the links it writes in emails and gives identity providers.
     */
    publicUrl?: boolean;
  } = {},
): () => BrowserHaven {
  let browser: Browser | undefined;
  let current: BrowserHaven | undefined;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    const clock = new TotpClock();
    const fixedPort = options.publicUrl ? await freePort() : 0;
    const haven = await startHavenWith(
      (services, config, database) => {
        services.auth = new AuthService(database, config, { clock: () => clock.ms });
      },
      {
        HAVEN_WEB_DIR: TEST_WEB_DIR,
        ...(fixedPort ? { HAVEN_PUBLIC_URL: `http://127.0.0.1:${fixedPort}` } : {}),
        ...(typeof overrides === 'function' ? overrides() : overrides),
      },
    );
    await haven.app.listen({ host: '127.0.0.1', port: fixedPort });
    const { port } = haven.app.server.address() as AddressInfo;
    const b = browser!;
    current = {
      haven,
      clock,
      url: `http://127.0.0.1:${port}`,
      browser: b,
      async newPage(viewport = DESKTOP) {
        const context = await b.newContext({
          viewport,
          locale: 'en-GB',
          timezoneId: 'Europe/London',
        });
        contexts.push(context);
        // Generous: CI machines are small and run the suite beside other work.
        context.setDefaultTimeout(20_000);
        const page = await context.newPage();
        page.on('pageerror', (error) => pageErrors.push(error.message));
        return page;
      },
    };
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    await current?.haven.close();
    current = undefined;
    const errors = pageErrors.splice(0);
    if (errors.length > 0) throw new Error(`Errors in the page:\n${errors.join('\n')}`);
  });
  return () => {
    if (!current) throw new Error('useBrowserHaven() is only available inside a test');
    return current;
  };
}

/** Signs in through the sign-in page and waits for the home page. */
export async function signIn(
  page: Page,
  url: string,
  email: string,
  options: { password?: string; totp?: string } = {},
) {
  await page.goto(url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(options.password ?? STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (options.totp) {
    await page.getByLabel('Code from your authenticator app').fill(options.totp);
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
  }
  // The signed-in frame (its menu is folded away at phone width, so wait for it in the page).
  await page.locator('#main-nav').waitFor({ state: 'attached' });
}
