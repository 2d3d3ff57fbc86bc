// agentwire in a plain node:http server: node examples/node-http.ts (Node ≥ 22.18 runs TypeScript)
import { createServer } from 'node:http';
import type { AgentContext } from 'agentwire';
import { createGateway } from 'agentwire/gateway';

async function* echo(ctx: AgentContext) {
  for (const word of String(ctx.input).split(' ')) {
    await ctx.sleep(50);
    yield `${word} `;
  }
}

const gateway = createGateway({ agents: { echo } });
const server = createServer(gateway.listener);
server.on('upgrade', gateway.upgrade); // the WebSocket transport, /api/ws
// 127.0.0.1 only, and not 8787, where `npm start` listens.
server.listen(8788, '127.0.0.1', () => console.log('agentwire on http://127.0.0.1:8788'));

process.once('SIGINT', async () => {
  await gateway.close(); // live runs end with run.cancelled, their streams close
  server.close();
});
