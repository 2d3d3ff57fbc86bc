// Your own agents, served with:
//   npx agentwire serve --agent-module examples/my-agents.js
// Each named export is an agent (the first is the default). An agent is an async generator:
// yield strings for the answer, use ctx.step / ctx.tool for the step tree, return the output.

/** Writes a haiku about the input, thinking in a step first. */
export async function* haiku(ctx) {
  const topic = String(ctx.input || 'streams');
  yield* ctx.step({ title: 'Count syllables', kind: 'thought' }, async function* (step) {
    yield step.log(`topic: ${topic}`);
    yield step.text('five, then seven, then five…');
    await ctx.sleep(300);
  });
  for (const line of [`${topic} in the wire,`, 'each token a falling leaf —', 'the page fills with light.']) {
    for (const word of line.split(' ')) {
      await ctx.sleep(60);
      yield `${word} `;
    }
    yield '\n';
  }
}

/** Looks up the weather with a (fake) tool inside nested steps. */
export async function* weather(ctx) {
  const city = String(ctx.input || 'Paris');
  yield ctx.status(`Looking up ${city}…`);
  const forecast = yield* ctx.step({ title: 'Gather data', kind: 'agent' }, async function* (gather) {
    return yield* gather.step({ title: `Forecast for ${city}`, kind: 'search' }, async function* (lookup) {
      yield lookup.log('calling the forecast API');
      // ctx.tool yields tool.call, awaits the function (with the run's AbortSignal), yields tool.result.
      return yield* lookup.tool('forecast', { city, days: 1 }, async (signal) => {
        await ctx.sleep(400);
        if (signal.aborted) throw signal.reason;
        return { city, high: 21, low: 12, sky: 'clear' };
      });
    });
  });
  yield `Tomorrow in ${forecast.city}: ${forecast.sky}, ${forecast.low}–${forecast.high} °C.`;
  ctx.reportUsage({ inputTokens: 12, outputTokens: 14 });
  return forecast;
}
