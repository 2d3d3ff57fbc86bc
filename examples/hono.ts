// agentwire mounted in a Hono app: node examples/hono.ts (needs hono and @hono/node-server)
import { serve } from '@hono/node-server';
import type { AgentContext } from 'agentwire';
import { createGateway } from 'agentwire/gateway';
import { Hono } from 'hono';

async function* shout(ctx: AgentContext) {
  yield String(ctx.input).toUpperCase();
}

const gateway = createGateway({ agents: { shout } });
const app = new Hono();
app.get('/hello', (c) => c.text('your own routes sit beside it'));
// Everything agentwire serves: the viewer (/, /runs/:id, /assets/*), /healthz, /metrics, the API.
for (const path of ['/', '/runs/:id', '/assets/*', '/healthz', '/metrics', '/api/*']) {
  app.all(path, (c) => gateway.fetch(c.req.raw));
}
const server = serve({ fetch: app.fetch, port: 8789, hostname: '127.0.0.1' }, () => {
  console.log('agentwire on http://127.0.0.1:8789');
});
server.on('upgrade', gateway.upgrade); // the WebSocket transport, /api/ws

process.once('SIGINT', async () => {
  await gateway.close();
  server.close();
});
