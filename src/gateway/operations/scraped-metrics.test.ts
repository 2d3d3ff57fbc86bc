import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { scrapedCounter, scrapedHistogram, scrapedTally } from './scraped-metrics.js';

/** The sample lines of one metric in the registry's text format. */
async function samples(registry: Registry, name: string): Promise<string[]> {
  return (await registry.getSingleMetricAsString(name)).split('\n').filter((line) => line.startsWith(name));
}

describe('scraped metrics', () => {
  it('a counter tally shows each label set with its total, across scrapes', async () => {
    const registry = new Registry();
    const tally = scrapedTally({ kind: 'counter', name: 't_runs', help: 'h', labelNames: ['agent', 'outcome'], registers: [registry] });
    tally.add('demo', 'finished', 1);
    tally.add('demo', 'finished', 1);
    tally.add('demo', 'failed', 1);
    tally.add('other', 'finished', 1);
    expect(await samples(registry, 't_runs')).toEqual([
      't_runs{agent="demo",outcome="finished"} 2',
      't_runs{agent="demo",outcome="failed"} 1',
      't_runs{agent="other",outcome="finished"} 1',
    ]);
    tally.add('demo', 'finished', 3);
    expect(await samples(registry, 't_runs')).toContain('t_runs{agent="demo",outcome="finished"} 5');
  });

  it('a one-label counter ignores the second value', async () => {
    const registry = new Registry();
    const tally = scrapedTally({ kind: 'counter', name: 't_started', help: 'h', labelNames: ['agent'], registers: [registry] });
    tally.add('demo', 'ignored', 1);
    tally.add('demo', 'also ignored', 1);
    expect(await samples(registry, 't_started')).toEqual(['t_started{agent="demo"} 2']);
  });

  it('a gauge tally goes up and down, and keeps a series that is back at 0', async () => {
    const registry = new Registry();
    const tally = scrapedTally({ kind: 'gauge', name: 't_open', help: 'h', labelNames: ['transport', 'format'], registers: [registry] });
    tally.add('sse', 'agentwire', 1);
    tally.add('sse', 'agentwire', 1);
    tally.add('ws', 'agentwire', 1);
    tally.add('ws', 'agentwire', -1);
    expect(await samples(registry, 't_open')).toEqual(['t_open{transport="sse",format="agentwire"} 2', 't_open{transport="ws",format="agentwire"} 0']);
    tally.add('sse', 'agentwire', -2);
    expect(await samples(registry, 't_open')).toEqual(['t_open{transport="sse",format="agentwire"} 0', 't_open{transport="ws",format="agentwire"} 0']);
  });

  it('a histogram holds its observations until a scrape, or until 1,024 are pending', async () => {
    const registry = new Registry();
    const histogram = scrapedHistogram({ name: 't_duration', help: 'h', labelName: 'outcome', buckets: [1, 10], registers: [registry] });
    histogram.observe('finished', 0.5);
    histogram.observe('finished', 5);
    histogram.observe('failed', 20);
    const lines = await samples(registry, 't_duration');
    expect(lines).toContain('t_duration_bucket{le="1",outcome="finished"} 1');
    expect(lines).toContain('t_duration_bucket{le="10",outcome="finished"} 2');
    expect(lines).toContain('t_duration_count{outcome="finished"} 2');
    expect(lines).toContain('t_duration_sum{outcome="failed"} 20');
    // 1,024 pending observations are handed over without a scrape (the registry's own state shows them).
    for (let index = 0; index < 1024; index++) histogram.observe('cancelled', 1);
    const metric = registry.getSingleMetric('t_duration');
    const data = await (metric as unknown as { hashMap: Record<string, { count: number }> }).hashMap;
    expect(Object.values(data).some((entry) => entry.count === 1024)).toBe(true);
  });

  it('a label-free counter adds plain numbers and hands them over at a scrape', async () => {
    const registry = new Registry();
    const counter = scrapedCounter('t_events', 'h', [registry]);
    counter.add(3);
    counter.add(4);
    expect(await samples(registry, 't_events')).toEqual(['t_events 7']);
  });
});
