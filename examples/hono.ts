// Mount agentwire's fetch handler in Hono (the same handler works in Next.js route handlers,
// Bun.serve and Deno.serve: they all take `(request: Request) => Promise<Response>`).
//   npm install hono @hono/node-server && node examples/hono.ts
import { serve } from '@hono/node-server';
import { type AgentContext, createGateway } from 'agentwire';
import { Hono } from 'hono';

async function* shout(ctx: AgentContext) {
  yield String(ctx.input).toUpperCase();
}

const gateway = createGateway({ agents: { shout }, uiDir: false });
const app = new Hono();
app.get('/', (context) => context.text('agentwire is mounted under /api'));
app.all('/api/*', (context) => gateway.fetch(context.req.raw));

serve({ fetch: app.fetch, port: 8789, hostname: '127.0.0.1' }, (info) => {
  console.log(`curl -N -X POST -H "accept: text/event-stream" -H "content-type: application/json" -d '{"input":"hi"}' http://127.0.0.1:${info.port}/api/runs`);
});
