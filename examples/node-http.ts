// Mount agentwire in a plain node:http server (the same listener works in Express:
// `app.use(gateway.listener)`, or Fastify: `fastify.all('/api/*', (req, reply) => { reply.hijack(); gateway.listener(req.raw, reply.raw); })`).
//   node examples/node-http.ts      (Node ≥ 22.18 runs TypeScript directly)
import { createServer } from 'node:http';
import { type AgentContext, createGateway } from 'agentwire';

async function* echo(ctx: AgentContext) {
  yield* ctx.step('Read the input', async function* (step) {
    yield step.log(`received ${JSON.stringify(ctx.input)}`);
  });
  for (const word of String(ctx.input).split(' ')) {
    await ctx.sleep(50);
    yield `${word} `;
  }
}

const gateway = createGateway({ agents: { echo } });
const server = createServer(gateway.listener).listen(8788, '127.0.0.1', () => {
  console.log('curl -N -X POST -H "accept: text/event-stream" -H "content-type: application/json" -d \'{"input":"hello there"}\' http://127.0.0.1:8788/api/runs');
});

process.once('SIGINT', async () => {
  await gateway.close(); // live runs end with run.cancelled, their streams close
  server.close();
});
