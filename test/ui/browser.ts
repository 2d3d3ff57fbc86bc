/**
 * Debian's Chromium driven by playwright-core for the UI suites, and a `poll` helper (playwright-core
 * has no `expect`).
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { GatewayOptions } from '../../src/gateway/options.js';
import { type TestServer, startNodeServer } from '../helpers/servers.js';

/** Where Debian installs Chromium (`.ci/run` installs the `chromium` package). */
export const CHROMIUM_PATH = process.env.AGENTWIRE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why the Chromium suites cannot run here, or undefined when they can. Under `CI=true` a missing
 * browser is a failure, not a skip.
 */
export function chromiumSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const reason = `${CHROMIUM_PATH} is missing: the Chromium UI suites are SKIPPED (install the "chromium" package; .ci/run does)`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${reason}`);
  console.warn(`\n*** ${reason} ***\n`);
  return reason;
}

/** Launches headless Chromium with the flags a shared CI box needs. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...extraArgs],
  });
}

/**
 * The gateway and the Chromium of one browser suite: started before its tests, closed after them.
 * Read `server`, `url` and `browser` inside the tests (they exist once the suite has started).
 */
export function useGatewayAndChromium(
  options: GatewayOptions,
  onRequest?: (request: IncomingMessage) => void,
): { readonly server: TestServer; readonly url: string; readonly browser: Browser } {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await startNodeServer(options, onRequest);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('the suite has not started its gateway yet');
      return server;
    },
    get url() {
      return this.server.url;
    },
    get browser() {
      if (!browser) throw new Error('the suite has not launched Chromium yet');
      return browser;
    },
  };
}

/** Polls `check` until it returns a truthy value; rejects with `what` and the last value after `timeoutMs`. */
export async function poll<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await check();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
