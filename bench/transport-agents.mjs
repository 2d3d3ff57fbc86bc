// Agents for bench/transports.mjs: `burst` yields input.n small data events as fast as possible;
// `paced` yields input.n events at input.rate per second, each carrying its send time.
export async function* burst(ctx) {
  const n = ctx.input?.n ?? 100_000;
  for (let index = 0; index < n; index++) yield ctx.data('b', { i: index, pad: 'xxxxxxxxxxxxxxxxxxxxxxxx' });
}

export async function* paced(ctx) {
  const n = ctx.input?.n ?? 200;
  const interval = 1000 / (ctx.input?.rate ?? 100);
  const started = Date.now();
  for (let index = 0; index < n; index++) {
    const wait = started + index * interval - Date.now();
    if (wait > 0) await ctx.sleep(wait);
    yield ctx.data('p', { sentAt: Date.now() });
  }
}
