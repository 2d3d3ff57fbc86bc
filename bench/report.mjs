// Markdown tables and SVG bar charts of a bench run (see run.mjs). Rows are servers; ratios are
// to the raw `node:http` loop measured in the same invocation.

const fixed = (value, digits = 1) => (value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));
const thousands = (value) => (value === null || value === undefined || !Number.isFinite(value) ? '–' : Math.round(value).toLocaleString('en-US'));
const ratio = (value, base, digits = 2) =>
  value === null || base === null || value === undefined || base === undefined || !Number.isFinite(value) || !Number.isFinite(base) || base === 0
    ? '–'
    : `${(value / base).toFixed(digits)}×`;
const table = (header, rows) =>
  [`| ${header.join(' | ')} |`, `|${header.map((_, index) => (index === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');

/** Why throughput runs did not complete: cut at the time limit, or the connection ended early. */
function runNote(runs) {
  const cut = runs.filter((run) => run.timedOut).length;
  const early = runs.filter((run) => !run.timedOut && run.events < run.expected).length;
  const notes = [];
  if (cut) notes.push(`${cut} cut at the limit`);
  if (early) notes.push(`${early} ended early (${runs.filter((run) => !run.timedOut && run.events < run.expected).map((run) => thousands(run.events)).join(', ')} events)`);
  return notes.length ? ` (${notes.join('; ')})` : '';
}

function throughputSection(data) {
  const raw = data.rows.find((row) => row.server === 'raw');
  const s = data.settings;
  return [
    `### Single stream, as fast as possible (${thousands(s.n)} events of ${s.bytes} B JSON, median of ${s.reps}; a stream is cut at ${s.timeoutMs / 1000} s)`,
    '',
    table(
      ['server', 'events/s', '× raw', 'MB/s', 'wire B/event', 'server CPU µs/event', 'load-gen CPU µs/event', 'peak RSS MB', 'runs complete'],
      data.rows.map((row) => [
        row.server,
        thousands(row.eventsPerSecond),
        ratio(row.eventsPerSecond, raw?.eventsPerSecond),
        fixed(row.mbPerSecond),
        fixed(row.bytesPerEvent, 0),
        fixed(row.serverCpuUsPerEvent, 2),
        fixed(row.loadgenCpuUsPerEvent, 2),
        fixed(row.peakRssMb, 0),
        `${row.completed}/${row.reps}${runNote(row.runs)}`,
      ]),
    ),
  ].join('\n');
}

function manySection(data) {
  const s = data.settings;
  const parts = [];
  for (const streams of s.streams) {
    const rows = data.rows.filter((row) => row.streams === streams);
    const raw = rows.find((row) => row.server === 'raw');
    parts.push(
      `### ${thousands(streams)} streams at ${s.rate} events/s for ${s.seconds} s, opened at ${thousands(s.openPerSecond)} connections/s (one run each)`,
      '',
      table(
        ['server', 'latency p50 ms', 'p99 ms', 'max ms', 'p99 × raw', 'TTFE p50 ms', 'TTFE p99 ms', 'TTFE p99 × raw', 'listen overflows', 'RSS/stream KB', '× raw', 'server CPU s', 'errors'],
        rows.map((row) => [
          row.server,
          fixed(row.latency.p50, 2),
          fixed(row.latency.p99, 1),
          fixed(row.latency.max, 0),
          ratio(row.latency.p99, raw?.latency.p99),
          fixed(row.ttfe.p50, 1),
          fixed(row.ttfe.p99, 1),
          ratio(row.ttfe.p99, raw?.ttfe.p99),
          String(row.listenOverflows),
          fixed(row.rssPerStreamKb, 1),
          ratio(row.rssPerStreamKb, raw?.rssPerStreamKb),
          fixed(row.serverCpuMs / 1000, 1),
          row.errors === 0 ? '0' : `${row.errors} (${Object.entries(row.errorKinds).map(([kind, count]) => `${kind}: ${count}`).join(', ')})`,
        ]),
      ),
      '',
    );
  }
  parts.push('Listen overflows are the machine-wide `ListenOverflows` delta from `/proc/net/netstat` during the run.');
  return parts.join('\n');
}

function ttfeSection(data) {
  const raw = data.rows.find((row) => row.server === 'raw');
  const label = { get: 'GET (starts the stream)', 'post-stream': 'POST start-and-stream', attach: 'GET attach to a created run', 'create-then-get': 'POST create, then GET (timed from the POST)' };
  const lines = [
    `### Time to first event, ${data.settings.count} sequential runs on one keep-alive connection (1 event of 64 B each)`,
    '',
    table(
      ['server', 'request', 'p50 ms', 'p99 ms', 'max ms', 'p50 × raw', 'p99 × raw', 'errors'],
      data.rows.map((row) => [
        row.server,
        label[row.mode] ?? row.mode,
        fixed(row.ttfe.p50, 2),
        fixed(row.ttfe.p99, 2),
        fixed(row.ttfe.max, 1),
        ratio(row.ttfe.p50, raw?.ttfe.p50),
        ratio(row.ttfe.p99, raw?.ttfe.p99),
        String(Object.values(row.errors).reduce((sum, count) => sum + count, 0)),
      ]),
    ),
  ];
  const post = data.rows.find((row) => row.server === 'agentwire' && row.mode === 'post-stream');
  const twoStep = data.rows.find((row) => row.server === 'agentwire' && row.mode === 'create-then-get');
  if (post && twoStep) {
    lines.push(
      '',
      `Start-and-stream vs create-then-subscribe (agentwire): p50 ${fixed(post.ttfe.p50, 2)} ms vs ${fixed(twoStep.ttfe.p50, 2)} ms — one round trip saves ${fixed(twoStep.ttfe.p50 - post.ttfe.p50, 2)} ms at p50 (${fixed(twoStep.ttfe.p99 - post.ttfe.p99, 2)} ms at p99) on loopback; on a real network it saves a full RTT.`,
    );
  }
  return lines.join('\n');
}

function stallSection(data) {
  const s = data.settings;
  return [
    `### Stalled reader: the client reads the first event, then stops reading while the run emits ${Math.round(s.totalBytes / 1024 / 1024)} MB (${s.bytes} B events, as fast as possible); held ${s.holdMs / 1000} s`,
    '',
    table(
      ['server', 'RSS growth while stalled MB', 'RSS at stall MB', 'peak RSS MB', 'events produced', 'MB produced', 'outcome'],
      data.rows.map((row) => [
        row.server,
        fixed(row.rssGrowthMb),
        fixed(row.rssAtStallMb),
        fixed(row.peakRssMb),
        thousands(row.produced),
        fixed(row.producedMb),
        row.crashed ? `crashed (${row.crashed.signal ?? `exit ${row.crashed.code}`})` : (row.error ?? 'ok'),
      ]),
    ),
  ].join('\n');
}

function disconnectSection(data) {
  const s = data.settings;
  const modes = [...new Set(data.rows.map((row) => row.mode))];
  return [
    `### Disconnect after ${s.after} events (64 B; paced = 100 events/s; backpressured = the client stops reading for ${s.holdMs} ms, then disconnects). Checked ${s.settleMs / 1000} s after the disconnect; agentwire with \`graceMs: 0\`.`,
    '',
    table(
      ['server', ...modes.flatMap((mode) => [`${mode}: events after disconnect`, `${mode}: \`finally\` after`])],
      [...new Set(data.rows.map((row) => row.server))].map((server) => [
        server,
        ...modes.flatMap((mode) => {
          const row = data.rows.find((each) => each.server === server && each.mode === mode);
          if (!row) return ['–', '–'];
          const still = row.stillProducing ? ' (still producing)' : '';
          return [`${thousands(row.producedAfterDisconnect)}${still}`, row.finallyRan ? `${fixed(row.finallyMs, 1)} ms` : `never (> ${s.settleMs / 1000} s)`];
        }),
      ]),
    ),
  ].join('\n');
}

function fanoutSection(data) {
  const s = data.settings;
  const raw = data.rows.find((row) => row.server === 'raw');
  return [
    `### Fan-out: one producer, ${thousands(s.subscribers)} subscribers, ${s.rate} events/s for ${s.seconds} s`,
    '',
    table(
      ['server', 'latency p50 ms', 'p99 ms', 'max ms', 'p99 × raw', 'all joined before the start', 'subscribers complete', 'server CPU s', 'errors'],
      data.rows.map((row) => [
        row.server,
        fixed(row.latency.p50, 2),
        fixed(row.latency.p99, 2),
        fixed(row.latency.max, 1),
        ratio(row.latency.p99, raw?.latency.p99),
        row.connectedBeforeStart ? 'yes' : 'no',
        `${row.complete}/${row.subscribers}`,
        fixed(row.serverCpuMs / 1000, 2),
        row.errorCount === 0 ? '0' : `${row.errorCount} (${Object.entries(row.errors).map(([kind, count]) => `${kind}: ${count}`).join(', ')})`,
      ]),
    ),
    '',
    'A subscriber that joined after the start misses the first events and never completes (an error here).',
  ].join('\n');
}

/**
 * A peer that is a framework, which agentwire must be ahead of: not a baseline (the raw loop, the
 * log floor) and not an agentwire build (`agentwire@base` in an A/B).
 */
const isFramework = (server) => server !== 'raw' && server !== 'log-floor' && !server.startsWith('agentwire');

/** agentwire against the issue's targets, from the measured rows. */
function verdicts(results) {
  const lines = [];
  const check = (ok, text) => lines.push(`- ${ok === null ? '?' : ok ? 'meets' : '**misses**'}: ${text}`);
  const w = results.workloads;
  if (w.throughput) {
    const raw = w.throughput.rows.find((row) => row.server === 'raw');
    const aw = w.throughput.rows.find((row) => row.server === 'agentwire');
    if (raw && aw) {
      const others = w.throughput.rows.filter((row) => isFramework(row.server));
      check(aw.eventsPerSecond >= 0.9 * raw.eventsPerSecond, `single-stream throughput ≥ 0.9× raw (${ratio(aw.eventsPerSecond, raw.eventsPerSecond)})`);
      check(
        others.length === 0 ? null : others.every((row) => aw.eventsPerSecond > row.eventsPerSecond),
        `ahead of every framework (${others.length === 0 ? 'not measured: no framework in this run' : others.map((row) => `${row.server} ${ratio(row.eventsPerSecond, raw.eventsPerSecond)}`).join(', ')})`,
      );
    }
  }
  if (w.many) {
    for (const streams of w.many.settings.streams) {
      const raw = w.many.rows.find((row) => row.server === 'raw' && row.streams === streams);
      const aw = w.many.rows.find((row) => row.server === 'agentwire' && row.streams === streams);
      if (!raw || !aw) continue;
      check(aw.latency.p99 <= 1.2 * raw.latency.p99, `${streams} streams: latency p99 ≤ 1.2× raw (${ratio(aw.latency.p99, raw.latency.p99)})`);
      check(aw.ttfe.p99 <= 1.5 * raw.ttfe.p99, `${streams} streams: TTFE p99 ≤ 1.5× raw (${ratio(aw.ttfe.p99, raw.ttfe.p99)})`);
      const fastify = w.many.rows.find((row) => row.server === 'fastify' && row.streams === streams);
      if (fastify) check(aw.ttfe.p99 < fastify.ttfe.p99, `${streams} streams: TTFE p99 below Fastify (${aw.ttfe.p99.toFixed(1)} ms against ${fastify.ttfe.p99.toFixed(1)} ms)`);
      check(aw.listenOverflows === 0, `${streams} streams: 0 listen overflows (${aw.listenOverflows})`);
      const rssMeasured = Number.isFinite(aw.rssPerStreamKb) && Number.isFinite(raw.rssPerStreamKb);
      check(rssMeasured ? aw.rssPerStreamKb <= 1.2 * raw.rssPerStreamKb : null, `${streams} streams: RSS/stream ≤ 1.2× raw (${rssMeasured ? ratio(aw.rssPerStreamKb, raw.rssPerStreamKb) : 'not measured: not every stream reached steady state'})`);
      check(aw.errors === 0, `${streams} streams: 0 errors (${aw.errors})`);
    }
  }
  if (w.ttfe) {
    const raw = w.ttfe.rows.find((row) => row.server === 'raw');
    const fastify = w.ttfe.rows.find((row) => row.server === 'fastify');
    for (const row of w.ttfe.rows.filter((each) => each.server === 'agentwire' && each.mode !== 'create-then-get')) {
      if (raw) check(row.ttfe.p50 <= 1.3 * raw.ttfe.p50, `keep-alive TTFE p50 ≤ 1.3× raw, ${row.mode} (${ratio(row.ttfe.p50, raw.ttfe.p50)})`);
      if (fastify) check(row.ttfe.p50 < fastify.ttfe.p50, `keep-alive TTFE p50 below Fastify, ${row.mode} (${row.ttfe.p50.toFixed(2)} ms against ${fastify.ttfe.p50.toFixed(2)} ms)`);
    }
  }
  if (w.stall) {
    const aw = w.stall.rows.find((row) => row.server === 'agentwire');
    if (aw) check(aw.rssGrowthMb !== null && aw.rssGrowthMb <= 1 && !aw.crashed, `stalled reader: ≤ 1 MB RSS growth after the stall (${fixed(aw.rssGrowthMb)} MB; the run log is bounded)`);
  }
  if (w.disconnect) {
    for (const row of w.disconnect.rows.filter((each) => each.server === 'agentwire')) {
      check(row.producedAfterDisconnect !== null && row.producedAfterDisconnect <= 1, `disconnect (${row.mode}): ≤ 1 event produced after it (${row.producedAfterDisconnect})`);
      check(row.finallyRan && row.finallyMs <= 250, `disconnect (${row.mode}): \`finally\` within 250 ms with grace 0 (${row.finallyRan ? `${fixed(row.finallyMs, 1)} ms` : 'never'})`);
    }
  }
  if (w.fanout) {
    const aw = w.fanout.rows.find((row) => row.server === 'agentwire');
    if (aw) check(aw.latency.p99 <= 50 && aw.errorCount === 0, `fan-out p99 ≤ 50 ms (${fixed(aw.latency.p99, 2)} ms, errors ${aw.errorCount})`);
  }
  return lines;
}

/** The whole report as Markdown. */
export function renderMarkdown(results, stem) {
  const { meta } = results;
  const sections = {
    throughput: throughputSection,
    many: manySection,
    ttfe: ttfeSection,
    stall: stallSection,
    disconnect: disconnectSection,
    fanout: fanoutSection,
  };
  const out = [
    `## agentwire benchmark — ${meta.date.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${meta.nproc} cores (\`nproc\`), ${meta.cpuModel}, ${meta.memoryGb} GB; Node ${meta.node}${meta.python ? `; Python ${meta.python.split(' ')[0]} with FastAPI ${meta.python.split(' ')[1]} and uvicorn ${meta.python.split(' ')[2]}` : ''}; ` +
      `${Object.entries(meta.versions).map(([name, version]) => `${name} ${version}`).join(', ')}. ` +
      `Load average ${meta.loadAverageAtStart} at start, ${meta.loadAverageAtEnd} at the end (the machine is shared: expect noise). ` +
      `\`ulimit -n\` ${meta.nofile}, \`somaxconn\` ${meta.somaxconn}. Command: \`${meta.command}\` (${Math.round(meta.totalSeconds)} s). ` +
      (meta.warmUp === false ? 'Servers measured cold (no warm-up).' : 'Before the throughput, time-to-first-event and fan-out workloads, every server process serves an untimed warm-up (a stream as long as a measured one, 1,000 sequential short streams, a burst of 200); before many streams a light one (200 short streams, a burst of 50, so the heap it leaves does not blur RSS per stream); the stall and disconnect workloads run cold.'),
    '',
  ];
  if (meta.fastapiSkipped) out.push('**FastAPI was skipped: `python3-fastapi` / `python3-uvicorn` are not installed.**', '');
  for (const [name, data] of Object.entries(results.workloads)) out.push(sections[name](data), '', `![${name}](${stem}-${name}.svg)`, '');
  out.push('### agentwire against the targets', '', ...verdicts(results), '');
  return out.join('\n');
}

// --- SVG --------------------------------------------------------------------------------------
const escape = (text) => String(text).replace(/[&<>"]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char]);
const COLORS = { raw: '#6b7280', 'log-floor': '#9ca3af', agentwire: '#16a34a', hono: '#f97316', 'better-sse': '#2563eb', fastify: '#111827', fastapi: '#0d9488' };

/** A horizontal bar chart: `bars` = [{ label, server, value, text }]. */
function barChart(title, unit, bars, { log = false } = {}) {
  const width = 760;
  const rowHeight = 22;
  const left = 230;
  const top = 40;
  const height = top + bars.length * rowHeight + 30;
  const values = bars.map((bar) => bar.value).filter((value) => Number.isFinite(value) && value > 0);
  const max = Math.max(...values, 1e-9);
  const min = Math.min(...values, max);
  const scale = (value) => {
    if (!Number.isFinite(value) || value <= 0) return 0;
    if (!log) return (value / max) * (width - left - 120);
    const floor = Math.log10(Math.max(min / 2, 1e-3));
    return ((Math.log10(value) - floor) / (Math.log10(max) - floor || 1)) * (width - left - 120);
  };
  const rows = bars.map((bar, index) => {
    const y = top + index * rowHeight;
    const length = scale(bar.value);
    return [
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${left}" y="${y + 3}" width="${length.toFixed(1)}" height="${rowHeight - 6}" fill="${COLORS[bar.server] ?? '#9ca3af'}"/>`,
      `<text x="${(left + length + 6).toFixed(1)}" y="${y + 15}">${escape(bar.text ?? fixed(bar.value, 2))}</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="22" font-size="14" font-weight="600">${escape(title)}</text>`,
    `<text x="${width - 12}" y="22" text-anchor="end" fill="#6b7280">${escape(unit)}${log ? ' (log scale)' : ''}</text>`,
    ...rows,
    `</svg>`,
    '',
  ].join('\n');
}

/** One SVG per workload. */
export function renderSvgs(results) {
  const w = results.workloads;
  const out = {};
  if (w.throughput) {
    out.throughput = barChart('Single stream, 64 B events', 'events/s (higher is better)', w.throughput.rows.map((row) => ({ label: row.server, server: row.server, value: row.eventsPerSecond, text: thousands(row.eventsPerSecond) })));
  }
  if (w.many) {
    out.many = barChart(
      'Many paced streams: delivery latency p99 and time to first event p99',
      'ms (lower is better)',
      w.many.rows.flatMap((row) => [
        { label: `${row.server} · ${row.streams} · latency p99`, server: row.server, value: row.latency.p99, text: `${fixed(row.latency.p99, 1)} ms` },
        { label: `${row.server} · ${row.streams} · TTFE p99`, server: row.server, value: row.ttfe.p99, text: `${fixed(row.ttfe.p99, 1)} ms` },
      ]),
      { log: true },
    );
  }
  if (w.ttfe) {
    out.ttfe = barChart('Time to first event, keep-alive, p50', 'ms (lower is better)', w.ttfe.rows.map((row) => ({ label: `${row.server} · ${row.mode}`, server: row.server, value: row.ttfe.p50, text: `${fixed(row.ttfe.p50, 2)} ms` })));
  }
  if (w.stall) {
    out.stall = barChart('Stalled reader: server RSS growth while stalled', 'MB (lower is better)', w.stall.rows.map((row) => ({ label: row.server, server: row.server, value: Math.max(row.rssGrowthMb ?? 0, 0.01), text: row.crashed ? 'crashed' : `${fixed(row.rssGrowthMb)} MB` })), { log: true });
  }
  if (w.disconnect) {
    out.disconnect = barChart(
      'Events produced after the client disconnected',
      'events (lower is better)',
      w.disconnect.rows.map((row) => ({ label: `${row.server} · ${row.mode}`, server: row.server, value: Math.max(row.producedAfterDisconnect ?? 0, 0.5), text: `${thousands(row.producedAfterDisconnect)}${row.finallyRan ? '' : ', finally never ran'}` })),
      { log: true },
    );
  }
  if (w.fanout) {
    out.fanout = barChart('Fan-out: delivery latency p99', 'ms (lower is better)', w.fanout.rows.map((row) => ({ label: row.server, server: row.server, value: row.latency.p99, text: `${fixed(row.latency.p99, 2)} ms` })));
  }
  return out;
}
