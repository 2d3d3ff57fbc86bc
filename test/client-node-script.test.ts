/**
 * The library from a Node script, as a new user writes one after the README: the client needs an
 * absolute `baseUrl` outside a browser and says so; connection failures name their cause;
 * `createGateway({ agents: demoAgents })` says the factory must be called; a start without
 * `input` says so; and which code a throwing tool gives.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../src/client/start-run.js';
import { type ServeProcess, ROOT, run, startServe } from './helpers/process.js';

/** Runs an ES module script from the repository root (so `agentwire/…` resolves to the build) and parses its JSON output. */
async function script(source: string): Promise<unknown> {
  const result = await run(process.execPath, ['--input-type=module', '-e', source], { cwd: ROOT, timeoutMs: 30_000 });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

/** How a script reports an error: its class, code and message. */
const REPORT = 'const report = (error) => console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message }));';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the client and the gateway from a Node script', () => {
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServe(['--demo-speed', '0']);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('requires an absolute baseUrl outside a browser, naming the option, and works with one', async () => {
    const result = (await script(`
      import { startRun, subscribe, cancelRun } from 'agentwire/client';
      ${REPORT}
      const errors = [];
      const collect = async (iterable) => { for await (const _ of iterable); };
      const statuses = [];
      const onStatus = (status) => statuses.push(status.state + ' ' + (status.reason ?? '') + ' ' + (status.error?.code ?? ''));
      await collect(startRun({ agent: 'demo', input: 'Hi', onStatus })).catch((error) => errors.push(error));
      await collect(subscribe('run_x', { baseUrl: '/gateway', onStatus })).catch((error) => errors.push(error));
      await cancelRun('run_x').catch((error) => errors.push(error));
      await collect(startRun({ baseUrl: 'localhost:8787', input: 'Hi' })).catch((error) => errors.push(error));
      const types = [];
      for await (const event of startRun({ baseUrl: ${JSON.stringify(server.url)}, agent: 'demo', input: 'Hi' })) types.push(event.type);
      console.log(JSON.stringify({ errors: errors.map((error) => ({ name: error.name, code: error.code, message: error.message })), statuses, last: types.at(-1) }));
    `)) as { errors: { name: string; code: string; message: string }[]; statuses: string[]; last: string };
    expect(result.statuses).toEqual(['closed error AW_INVALID_OPTION', 'closed error AW_INVALID_OPTION']);
    expect(result.errors).toHaveLength(4);
    for (const error of result.errors.slice(0, 3)) {
      expect(error).toMatchObject({ name: 'AgentwireError', code: 'AW_INVALID_OPTION' });
      expect(error.message).toMatch(/^baseUrl: outside a browser the client needs an absolute baseUrl, e\.g\. \{ baseUrl: 'http:\/\/127\.0\.0\.1:8787' \}; got /);
    }
    expect(result.errors[0]?.message).toMatch(/got none$/);
    expect(result.errors[1]?.message).toMatch(/got "\/gateway"$/);
    expect(result.errors[3]).toMatchObject({ code: 'AW_INVALID_OPTION', message: `baseUrl must be an http(s) URL such as 'http://127.0.0.1:8787', got "localhost:8787"` });
    expect(result.last).toBe('run.finished');
  });

  describe('where there is a page origin (a browser or a worker)', () => {
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'location');
    afterEach(() => {
      if (saved) Object.defineProperty(globalThis, 'location', saved);
      else delete (globalThis as { location?: unknown }).location;
    });

    it('keeps relative URLs, resolved by the page', async () => {
      Object.defineProperty(globalThis, 'location', { value: new URL(`${server.url}/runs/x`), configurable: true });
      const requested: string[] = [];
      // The page's fetch resolves a relative URL against its location; Node's does not, so do it here.
      const pageFetch: typeof fetch = (input, init) => {
        requested.push(String(input));
        return fetch(new URL(String(input), globalThis.location.href), init);
      };
      const types: string[] = [];
      for await (const event of startRun({ input: 'Hi', fetch: pageFetch })) types.push(event.type);
      expect(requested[0]).toBe('/api/runs');
      expect(types.at(-1)).toBe('run.finished');
    });
  });

  it('names the cause when the gateway cannot be reached', async () => {
    const port = await closedPort();
    const error = (await script(`
      import { startRun } from 'agentwire/client';
      ${REPORT}
      try { for await (const _ of startRun({ baseUrl: 'http://127.0.0.1:${port}', input: 'Hi' })); } catch (error) { report(error); }
    `)) as { code: string; message: string };
    expect(error.code).toBe('AW_START_INTERRUPTED');
    expect(error.message).toBe(`the start request failed before the run id was known (fetch failed: connect ECONNREFUSED 127.0.0.1:${port}); it was not retried`);
  });

  it('says demoAgents is a factory to call, and names one agent function to wrap', async () => {
    const errors = (await script(`
      import { createGateway, demoAgents } from 'agentwire/gateway';
      const errors = [];
      async function* weather() { yield 'sunny'; }
      for (const agents of [demoAgents, weather]) {
        try { createGateway({ agents }); } catch (error) { errors.push({ code: error.code, message: error.message }); }
      }
      const gateway = createGateway({ agents: demoAgents() });
      errors.push(gateway.runner.agents.list().map((agent) => agent.name));
      await gateway.close();
      console.log(JSON.stringify(errors));
    `)) as unknown[];
    expect(errors).toEqual([
      { code: 'AW_INVALID_OPTION', message: 'agents: demoAgents is a function, not agents; if it is a factory like demoAgents, call it: agents: demoAgents()' },
      { code: 'AW_INVALID_OPTION', message: 'agents: weather is one agent function; pass agents by name: agents: { weather }' },
      ['demo', 'failing', 'quiet'],
    ]);
  });

  it.each([
    [{ agent: 'demo' }, /^input is missing: the body must be a JSON object \{ "input": any, "agent"\?: string \}$/],
    [{ agent: '', input: 'x' }, /^agent must be a non-empty string/],
    [['x'], /^the body must be a JSON object/],
  ])('answers a start with %j with 400 AW_BAD_REQUEST naming the problem', async (body, message) => {
    const result = await run('curl', ['-s', '-w', '\n%{http_code}', '-X', 'POST', '-H', 'content-type: application/json', '-d', JSON.stringify(body), `${server.url}/api/runs`]);
    const [json, status] = result.stdout.split('\n') as [string, string];
    expect(status).toBe('400');
    const { error } = JSON.parse(json) as { error: { code: string; message: string } };
    expect(error.code).toBe('AW_BAD_REQUEST');
    expect(error.message).toMatch(message);
  });

  it('gives a throwing tool AW_AGENT_ERROR in its tool.result and in run.failed (an AgentError keeps its code)', async () => {
    const events = (await script(`
      import { AgentError } from 'agentwire';
      import { createGateway } from 'agentwire/gateway';
      import { startRun } from 'agentwire/client';
      import { createServer } from 'node:http';
      async function* plain(ctx) { yield* ctx.tool('lookup', {}, () => { throw Object.assign(new Error('down'), { code: 'ECONNRESET' }); }); }
      async function* coded(ctx) { yield* ctx.tool('lookup', {}, () => { throw new AgentError('the lookup service is down', 'LOOKUP_DOWN'); }); }
      const gateway = createGateway({ agents: { plain, coded }, onAgentError: () => {} });
      const http = createServer(gateway.listener);
      await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
      const baseUrl = 'http://127.0.0.1:' + http.address().port;
      const seen = {};
      for (const agent of ['plain', 'coded']) {
        const codes = [];
        for await (const event of startRun({ baseUrl, agent, input: null })) if (event.error) codes.push(event.type + ' ' + event.error.code + ': ' + event.error.message);
        seen[agent] = codes;
      }
      await gateway.close();
      http.close();
      console.log(JSON.stringify(seen));
    `)) as Record<string, string[]>;
    expect(events).toEqual({
      // Masked: only AgentError (or exposeErrors) shows the message to clients.
      plain: ['tool.result AW_AGENT_ERROR: The agent failed. The server log has the details.', 'run.failed AW_AGENT_ERROR: The agent failed. The server log has the details.'],
      coded: ['tool.result LOOKUP_DOWN: the lookup service is down', 'run.failed LOOKUP_DOWN: the lookup service is down'],
    });
  });
});
