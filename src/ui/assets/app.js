// The minimal run viewer: start a run, follow its events with EventSource, show steps as
// accordions (open while running, folded when done) and the answer as it streams.
const $ = (id) => document.getElementById(id);
const steps = new Map();
let source;
let runId;

async function loadAgents() {
  const response = await fetch('/api/agents');
  const { agents } = await response.json();
  for (const agent of agents) {
    const option = document.createElement('option');
    option.value = agent.name;
    option.textContent = agent.name;
    option.title = agent.description ?? '';
    $('agent').append(option);
  }
}

function reset(id) {
  source?.close();
  steps.clear();
  runId = id;
  $('steps').replaceChildren();
  $('answer').textContent = '';
  $('status').textContent = '';
  $('error').hidden = true;
  $('run').hidden = false;
  $('run-id').textContent = id;
  setState('running');
}

function setState(state) {
  $('pill').dataset.state = state;
  $('pill').textContent = state;
  $('stop').hidden = state !== 'running';
}

function follow(id) {
  reset(id);
  source = new EventSource(`/api/runs/${encodeURIComponent(id)}/events`);
  source.onmessage = null;
  for (const type of ['step.started', 'step.log', 'step.updated', 'step.finished', 'text.delta', 'tool.call', 'tool.result', 'status', 'run.finished', 'run.failed', 'run.cancelled', 'run.snapshot']) {
    source.addEventListener(type, (message) => apply(JSON.parse(message.data)));
  }
  source.onerror = () => {
    if ($('pill').dataset.state === 'running') $('status').textContent = 'Connection lost — reconnecting…';
  };
}

function apply(event) {
  switch (event.type) {
    case 'step.started': {
      const details = document.createElement('details');
      details.open = true;
      details.dataset.state = 'running';
      details.dataset.stepId = event.stepId;
      const summary = document.createElement('summary');
      summary.textContent = event.title;
      const body = document.createElement('div');
      details.append(summary, body);
      const parent = steps.get(event.parentId);
      (parent ? parent.body : $('steps')).append(details);
      steps.set(event.stepId, { details, summary, body, startedAt: event.at, thought: undefined });
      break;
    }
    case 'step.log':
      line(event.stepId, 'log', event.text);
      break;
    case 'step.updated': {
      const step = steps.get(event.stepId);
      if (step) step.summary.textContent = event.title;
      break;
    }
    case 'step.finished': {
      const step = steps.get(event.stepId);
      if (!step) break;
      const seconds = ((event.at - step.startedAt) / 1000).toFixed(1);
      step.details.dataset.state = event.status === 'complete' ? 'complete' : event.error?.code === 'AW_RUN_CANCELLED' ? 'cancelled' : 'error';
      step.summary.textContent = `${event.status === 'complete' ? '✓' : '✗'} ${step.summary.textContent} · ${seconds} s`;
      if (event.status === 'complete') setTimeout(() => { step.details.open = false; }, 1000);
      else if (event.error) line(event.stepId, 'log', event.error.message);
      break;
    }
    case 'text.delta':
      if (event.stepId) {
        const step = steps.get(event.stepId);
        if (!step) break;
        step.thought ??= step.body.appendChild(Object.assign(document.createElement('p'), { className: 'thought' }));
        step.thought.append(event.text);
      } else $('answer').append(event.text);
      break;
    case 'tool.call':
      line(event.stepId, 'tool', `→ ${event.name}(${JSON.stringify(event.args)})`, `call-${event.callId}`);
      break;
    case 'tool.result': {
      const card = document.getElementById(`call-${event.callId}`);
      if (card) card.append(`\n← ${event.error ? `error: ${event.error.message}` : JSON.stringify(event.result, null, 2)}`);
      break;
    }
    case 'status':
      $('status').textContent = event.message;
      break;
    case 'run.snapshot':
      $('answer').textContent = event.state.text;
      break;
    case 'run.finished':
    case 'run.failed':
    case 'run.cancelled':
      source.close();
      $('status').textContent = '';
      setState(event.type.slice(4));
      if (event.type !== 'run.finished') {
        $('error').hidden = false;
        $('error').textContent = event.type === 'run.failed' ? `${event.error.message} (${event.error.code})` : `Cancelled: ${event.reason}`;
      }
      break;
  }
}

function line(stepId, className, text, id) {
  const step = steps.get(stepId);
  const element = document.createElement('div');
  element.className = className;
  if (id) element.id = id;
  element.textContent = text;
  (step ? step.body : $('steps')).append(element);
}

$('start').addEventListener('submit', async (submit) => {
  submit.preventDefault();
  let input = $('input').value;
  const response = await fetch('/api/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ agent: $('agent').value, input }),
  });
  const body = await response.json();
  if (!response.ok) {
    $('run').hidden = false;
    $('error').hidden = false;
    $('error').textContent = body.error?.message ?? `HTTP ${response.status}`;
    return;
  }
  history.pushState(null, '', `/runs/${body.id}`);
  follow(body.id);
});

$('stop').addEventListener('click', () => {
  if (runId) fetch(`/api/runs/${encodeURIComponent(runId)}/cancel`, { method: 'POST' });
});

await loadAgents();
const match = location.pathname.match(/^\/runs\/([^/]+)$/);
if (match) follow(decodeURIComponent(match[1]));
