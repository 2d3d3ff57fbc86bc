// The agent of bench/redis-latency.mjs: `input.count` data events, one every `input.intervalMs`
// ms, each carrying the producer's high-resolution wall clock (ms) so a subscriber can measure
// delivery latency across processes.
export async function* ticker(ctx) {
  const { count = 1000, intervalMs = 5 } = ctx.input ?? {};
  for (let index = 0; index < count; index++) {
    await ctx.sleep(intervalMs);
    yield ctx.data('t', performance.timeOrigin + performance.now());
  }
}
