// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core
// (never `npx playwright install`: no browser download). Each launch gets a fresh temporary
// profile, which playwright deletes on close.
//   const browser = await launchBrowser();
//   const { page, dialogs, errors } = await openPage(browser);  await page.goto(url);
//   ... await browser.close();
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.PREFREC_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (bash scripts/setup.sh)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30000 });
}

/** A new page in its own context; records dialogs (alert/confirm/prompt, dismissed at once),
 * uncaught page errors and console errors so tests can assert there were none. */
export async function openPage(browser, { width = 1280, height = 900, offline = false } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, offline });
  const page = await context.newPage();
  const dialogs = [];
  const errors = [];
  const consoleErrors = [];
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.setDefaultTimeout(10000);
  return { context, page, dialogs, errors, consoleErrors };
}
