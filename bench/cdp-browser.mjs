// A bare Chrome DevTools Protocol driver for the rendering benchmark: it launches Chromium itself and
// speaks CDP over one WebSocket, enabling only the Page domain (init scripts need it). Playwright enables the Network domain on
// every page, and with it Chromium keeps a copy of every response body for the inspector and works
// through a long event stream's body when it ends (a ~70 ms task of native code on this machine,
// charged to the page). A real user's tab pays none of that, so the benchmark does not either.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

/** Launches headless Chromium with `args` and connects to it. */
export async function launchBrowser({ executablePath, args = [] }) {
  const profile = mkdtempSync(join(tmpdir(), 'agentwire-bench-chromium-'));
  const child = spawn(executablePath, ['--headless', '--remote-debugging-port=0', `--user-data-dir=${profile}`, ...args, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // If the harness dies (an assertion, an uncaught error), Chromium goes with it.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  const endpoint = await new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start in 20 s:\n${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`Chromium exited (${code}) before it listened:\n${stderr}`)));
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  const socket = new WebSocket(endpoint, { perMessageDeflate: false, maxPayload: 512 * 1024 * 1024 });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data));
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
    else waiter.resolve(message.result);
  });
  /** Sends one command (to the page when `sessionId` is given) and resolves its result. */
  const send = (method, params = {}, sessionId) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject, method });
      socket.send(JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) }));
    });

  return {
    /** Opens a page in a fresh browser context, with `script` run before any of the page's own. */
    async newPage({ width, height, script }) {
      const { browserContextId } = await send('Target.createBrowserContext');
      const { targetId } = await send('Target.createTarget', { url: 'about:blank', browserContextId });
      const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
      const page = (method, params) => send(method, params, sessionId);
      await page('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
      await page('Page.enable');
      await page('Page.addScriptToEvaluateOnNewDocument', { source: script });
      return {
        send: page,
        goto: (url) => page('Page.navigate', { url }),
        /** Evaluates `expression` in the page, awaiting a promise, and returns its value. */
        async evaluate(expression) {
          const { result, exceptionDetails } = await page('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
          if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
          return result.value;
        },
        async close() {
          await send('Target.closeTarget', { targetId });
          await send('Target.disposeBrowserContext', { browserContextId });
        },
      };
    },
    async close() {
      await send('Browser.close').catch(() => {});
      socket.close();
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      process.off('exit', killChild);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
