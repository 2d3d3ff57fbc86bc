/**
 * Canned content for the demo agents: search results and answers.
 *
 * @module
 */

/** One fake search hit. */
export interface SearchResult {
  title: string;
  snippet: string;
  score: number;
}

const CAPITALS: Record<string, [string, string]> = {
  france: ['Paris', 'on the Seine, home to about 2.1 million people in the city proper'],
  germany: ['Berlin', 'on the Spree, the largest city in the European Union by population within city limits'],
  italy: ['Rome', 'on the Tiber, founded according to legend in 753 BC'],
  spain: ['Madrid', 'at the centre of the Iberian peninsula, on the Manzanares'],
  japan: ['Tokyo', 'on Tokyo Bay, the core of the most populous metropolitan area in the world'],
};

function capitalFor(question: string): [string, string, string] | undefined {
  const lower = question.toLowerCase();
  if (!lower.includes('capital')) return undefined;
  for (const [country, [city, fact]] of Object.entries(CAPITALS)) {
    if (lower.includes(country)) return [country[0]?.toUpperCase() + country.slice(1), city, fact];
  }
  return undefined;
}

/** Three plausible search hits for a question. */
export function searchResultsFor(question: string): SearchResult[] {
  const capital = capitalFor(question);
  if (capital) {
    const [country, city] = capital;
    return [
      { title: `${city} — Encyclopedia entry`, snippet: `${city} is the capital and largest city of ${country}.`, score: 0.94 },
      { title: `${country}: government and administration`, snippet: `The seat of government of ${country} is ${city}.`, score: 0.88 },
      { title: `Travel guide: ${city}`, snippet: `Everything to see in ${city}.`, score: 0.71 },
    ];
  }
  return [
    { title: 'Streaming agent runs with Server-Sent Events', snippet: 'Every event is sent as it is produced.', score: 0.82 },
    { title: 'Designing resumable event logs', snippet: 'Sequence numbers make reconnects exact.', score: 0.77 },
    { title: 'Backpressure in Node.js streams', snippet: 'Wait for drain before writing more.', score: 0.64 },
  ];
}

/** A Markdown answer for a question. */
export function answerFor(question: string): string {
  const capital = capitalFor(question);
  if (capital) {
    const [country, city, fact] = capital;
    return (
      `The capital of ${country} is **${city}**.\n\n` +
      `${city} lies ${fact}. All three sources I read agree:\n\n` +
      `- the encyclopedia entry names ${city} as capital and largest city;\n` +
      `- the government overview places the seat of government in ${city};\n` +
      `- the travel guide is, unsurprisingly, about ${city} too.\n\n` +
      'Ask me about another country to see another run.'
    );
  }
  return (
    `You asked: “${question}”.\n\n` +
    'I am the agentwire demo agent, so I do not really know the answer, but I can show how a run streams:\n\n' +
    '1. **Plan** — a thought step with streamed text;\n' +
    '2. **Research** — nested steps, a `search` tool call with its arguments and result, and log lines;\n' +
    '3. **Answer** — this text, token by token, at a rate that drifts between 15 and 80 tokens per second.\n\n' +
    'Every event has a sequence number, so a dropped connection resumes exactly where it stopped. ' +
    'Try asking “What is the capital of France?”.'
  );
}
