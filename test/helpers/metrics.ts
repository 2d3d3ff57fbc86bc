/**
 * Reading Prometheus text in tests.
 */

/** The value of a metric (with exactly these labels, if given) in Prometheus text; NaN when absent. */
export function metric(text: string, name: string, labels = ''): number {
  const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = text.split('\n').find((candidate) => candidate.startsWith(prefix));
  return line === undefined ? Number.NaN : Number(line.slice(prefix.length));
}

/** Fetches `/metrics` of a gateway. */
export async function scrape(baseUrl: string): Promise<string> {
  return (await fetch(`${baseUrl}/metrics`)).text();
}
