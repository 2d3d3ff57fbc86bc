/**
 * The viewer: a runs list (a drawer on narrow screens), a composer (prompt + agent picker) and the
 * selected run. Stores of visited runs stay open, so several runs can be live at once. With auth
 * on, a 401 from any call swaps the page for the sign-in form.
 *
 * @module
 */
import { type FormEvent, type RefObject, useCallback, useEffect, useRef, useState } from 'react';
import { type RunStore, createRunStore } from '../client/index.js';
import { RunView, StatusIcon, formatDuration, useNow, useRunStore } from '../react/index.js';
import { type AgentInfo, type RunSummary, createRun, fetchAgents, fetchRuns } from './api.js';
import { navigate, runIdFromPath, usePathname } from './router.js';
import { currentToken, forgetToken, keepToken, onUnauthorized } from './session.js';
import { SignIn } from './sign-in.js';
import { forgetStreamTokens, streamFetch } from './stream-fetch.js';

const stores = new Map<string, RunStore>();

/** The store of a run, created on first use and kept for the page's life. */
function storeFor(runId: string): RunStore {
  let store = stores.get(runId);
  if (!store) {
    store = createRunStore({ runId, fetch: streamFetch });
    stores.set(runId, store);
  }
  return store;
}

/** Closes every run store and forgets every credential (sign-out, or credentials refused). */
function forgetSession(): void {
  for (const store of stores.values()) store.close();
  stores.clear();
  forgetStreamTokens();
  forgetToken();
}

/**
 * Whether the page may show runs: `checking` until the first answer, `ready` (`signedIn` when
 * it uses a token of this tab), or `sign-in` after a 401.
 */
type Access = { state: 'checking' } | { state: 'ready'; signedIn: boolean } | { state: 'sign-in'; notice?: string };

const ICON_STATUS = { running: 'running', finished: 'complete', failed: 'error', cancelled: 'cancelled' } as const;

/** The whole page. */
export function App() {
  const pathname = usePathname();
  const runId = runIdFromPath(pathname);
  const [agents, setAgents] = useState<AgentInfo[]>([]);
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [access, setAccess] = useState<Access>({ state: 'checking' });
  const main = useRef<HTMLElement>(null);

  /** Back to the sign-in form with nothing of the session left; the first notice stays when several calls are refused at once. */
  const endSession = useCallback((notice: string | undefined) => {
    forgetSession();
    setAgents([]);
    setRuns([]);
    setAccess((previous) => (previous.state === 'sign-in' ? previous : { state: 'sign-in', ...(notice ? { notice } : {}) }));
  }, []);
  useEffect(
    () => onUnauthorized(() => endSession(currentToken() === undefined ? undefined : 'The gateway no longer accepts your token. Sign in again.')),
    [endSession],
  );
  const refreshRuns = useCallback(() => {
    fetchRuns().then(
      (list) => setRuns([...list].sort((a, b) => b.createdAt - a.createdAt)),
      () => undefined,
    );
  }, []);
  const signedIn = access.state === 'ready' && access.signedIn;
  const checking = access.state === 'checking';
  const ready = access.state === 'ready';
  useEffect(() => {
    if (!checking) return;
    fetchAgents().then(
      (list) => {
        setAgents(list);
        setAccess({ state: 'ready', signedIn: currentToken() !== undefined });
      },
      // A 401 has already switched to the sign-in; otherwise the page works without agents.
      () => setAccess((previous) => (previous.state === 'checking' ? { state: 'ready', signedIn: currentToken() !== undefined } : previous)),
    );
  }, [checking]);
  useEffect(() => {
    if (!ready) return;
    refreshRuns();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') refreshRuns();
    }, 2500);
    return () => clearInterval(timer);
  }, [ready, refreshRuns]);
  useEffect(() => setDrawerOpen(false), [runId]);
  const signIn = useCallback((token: string) => {
    keepToken(token);
    setAccess({ state: 'checking' });
  }, []);
  const signOut = useCallback(() => endSession('You have signed out.'), [endSession]);

  const onStarted = useCallback(
    (id: string) => {
      navigate(`/runs/${encodeURIComponent(id)}`);
      refreshRuns();
    },
    [refreshRuns],
  );

  if (access.state === 'sign-in') return <SignIn notice={access.notice} onSignedIn={signIn} />;
  return (
    <div className="app" data-drawer={drawerOpen || undefined}>
      <aside className="app__sidebar" id="runs-drawer" aria-label="Runs">
        <div className="app__brand">
          <span className="app__logo" aria-hidden="true" />
          agentwire
        </div>
        <button type="button" className="aw-button app__new" onClick={() => navigate('/')}>
          <span aria-hidden="true">+</span> New run
        </button>
        <h2 className="app__section-title">Recent runs</h2>
        <RunsList runs={runs} currentId={runId} />
        {signedIn ? (
          <button type="button" className="aw-button aw-button--ghost app__signout" onClick={signOut}>
            Sign out
          </button>
        ) : null}
      </aside>
      {drawerOpen ? <button type="button" className="app__scrim" aria-label="Close the runs list" onClick={() => setDrawerOpen(false)} /> : null}
      <main className="app__main" ref={main}>
        <div className="app__topbar">
          <button type="button" className="aw-button aw-button--ghost app__menu" aria-expanded={drawerOpen} aria-controls="runs-drawer" onClick={() => setDrawerOpen(!drawerOpen)}>
            <span className="app__menu-icon" aria-hidden="true" />
            Runs
          </button>
          <span className="app__topbar-brand">agentwire</span>
        </div>
        <div className="app__content">
          <Composer agents={agents} onStarted={onStarted} compact={runId !== undefined} />
          {/* A run waits for the first answer: without access its stream would only be refused. */}
          {runId === undefined ? <EmptyState agents={agents} onStarted={onStarted} /> : checking ? null : <RunPage key={runId} runId={runId} onEnded={refreshRuns} scroller={main} />}
        </div>
      </main>
    </div>
  );
}

function RunPage({ runId, onEnded, scroller }: { runId: string; onEnded: () => void; scroller: RefObject<HTMLElement | null> }) {
  const store = storeFor(runId);
  const snapshot = useRunStore(store);
  const { unseen, jump } = useFollow(scroller, snapshot.answerDeltas);
  const status = snapshot.state.status;
  useEffect(() => {
    // The runs list learns about the end at once instead of at its next poll.
    if (status !== 'running' && status !== 'idle') onEnded();
  }, [status, onEnded]);
  const stop = useCallback(() => store.cancel('stopped from the viewer'), [store]);
  return (
    <div className="app__run" data-run-id={runId}>
      <RunView snapshot={snapshot} onStop={stop} />
      {unseen > 0 ? (
        <button type="button" className="aw-button app__jump" onClick={jump}>
          Jump to latest ({unseen} new)
        </button>
      ) : null}
    </div>
  );
}

/**
 * Follows new content while the reader is at the bottom: a `ResizeObserver` on the page's content
 * scrolls after the browser's own layout, so following never forces an extra layout per frame. Once
 * the reader scrolls up, this counts the answer tokens they have not seen and offers a jump back.
 */
function useFollow(scroller: RefObject<HTMLElement | null>, tokens: number): { unseen: number; jump: () => void } {
  const atBottom = useRef(true);
  const seenTokens = useRef(tokens);
  const [unseen, setUnseen] = useState(0);
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    // Only the reader stops following: a scroll away from the bottom right after their own input
    // (wheel, touch, keys, scrollbar drag). Layout shifts and the browser's scroll anchoring never do.
    let inputAt = Number.NEGATIVE_INFINITY;
    let upAt = Number.NEGATIVE_INFINITY;
    const onInput = (event: Event) => {
      inputAt = performance.now();
      // An explicit move up stops following at once: otherwise content arriving before the
      // browser applies the scroll would pull the reader straight back to the bottom.
      const up =
        (event.type === 'wheel' && (event as WheelEvent).deltaY < 0) ||
        (event.type === 'keydown' && ['ArrowUp', 'PageUp', 'Home'].includes((event as KeyboardEvent).key));
      if (up) {
        upAt = inputAt;
        atBottom.current = false;
      }
    };
    const inputs = ['wheel', 'touchmove', 'keydown', 'pointerdown'] as const;
    for (const type of inputs) element.addEventListener(type, onInput, { passive: true });
    const onScroll = () => {
      // Our own scrolls while following change nothing: skip reading the geometry, which would
      // force a layout of the new content in the middle of the frame.
      if (atBottom.current && performance.now() - inputAt >= 1000) return;
      const distance = element.scrollHeight - element.scrollTop - element.clientHeight;
      // The first frames of a smooth scroll up are still near the bottom: they must not turn
      // following back on, or the next content would pull the reader down again.
      if (distance < 48 && performance.now() - upAt > 1000) {
        atBottom.current = true;
        setUnseen(0);
      } else if (distance >= 48 && performance.now() - inputAt < 1000) atBottom.current = false;
    };
    element.addEventListener('scroll', onScroll, { passive: true });
    const grew = new ResizeObserver(() => {
      if (atBottom.current) element.scrollTop = element.scrollHeight;
    });
    for (const child of element.children) grew.observe(child);
    return () => {
      for (const type of inputs) element.removeEventListener(type, onInput);
      element.removeEventListener('scroll', onScroll);
      grew.disconnect();
    };
  }, [scroller]);
  useEffect(() => {
    if (atBottom.current) seenTokens.current = tokens;
    else setUnseen(Math.max(0, tokens - seenTokens.current));
  }, [tokens]);
  const jump = useCallback(() => {
    const element = scroller.current;
    if (!element) return;
    atBottom.current = true;
    element.scrollTop = element.scrollHeight;
    setUnseen(0);
  }, [scroller]);
  return { unseen, jump };
}

const EXAMPLES: { agent: string; prompt: string; label: string }[] = [
  { agent: 'demo', prompt: 'What is the capital of Japan?', label: 'Research a question' },
  { agent: 'failing', prompt: 'Summarise the Q3 report', label: 'See a step fail' },
  { agent: 'quiet', prompt: 'Run the nightly batch', label: 'Watch a long, quiet step' },
];

function EmptyState({ agents, onStarted }: { agents: AgentInfo[]; onStarted: (id: string) => void }) {
  const available = EXAMPLES.filter((example) => agents.some((agent) => agent.name === example.agent));
  return (
    <div className="app__empty">
      <h1>Watch an agent work, step by step.</h1>
      <p>
        Ask something above. Each step opens while it runs and folds into a one-line summary when it is done; the answer streams underneath. Reload or lose the
        connection at any time — the run resumes exactly where it was.
      </p>
      {available.length > 0 ? (
        <div className="app__examples">
          {available.map((example) => (
            <button
              key={example.agent}
              type="button"
              className="app__example"
              onClick={() => {
                createRun(example.agent, example.prompt).then(onStarted, () => undefined);
              }}
            >
              <span className="app__example-label">{example.label}</span>
              <span className="app__example-prompt">
                {example.agent} · “{example.prompt}”
              </span>
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}

function Composer({ agents, onStarted, compact }: { agents: AgentInfo[]; onStarted: (id: string) => void; compact: boolean }) {
  const [prompt, setPrompt] = useState('What is the capital of France?');
  const [agent, setAgent] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const form = useRef<HTMLFormElement>(null);
  const selected = agent || agents[0]?.name || '';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (busy || prompt.trim() === '') return;
    setBusy(true);
    setError(undefined);
    createRun(selected || undefined, prompt.trim()).then(
      (id) => {
        setBusy(false);
        onStarted(id);
      },
      (failure: unknown) => {
        setBusy(false);
        setError(failure instanceof Error ? failure.message : String(failure));
      },
    );
  };
  return (
    <form className="composer" data-compact={compact || undefined} onSubmit={submit} ref={form} aria-label="Start a run">
      <label className="aw-visually-hidden" htmlFor="prompt">
        Prompt
      </label>
      <textarea
        id="prompt"
        className="composer__prompt"
        rows={compact ? 1 : 3}
        value={prompt}
        placeholder="Ask the agent…"
        onChange={(event) => setPrompt(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && !event.shiftKey) {
            event.preventDefault();
            form.current?.requestSubmit();
          }
        }}
      />
      <div className="composer__bar">
        <label className="composer__agent">
          <span className="aw-visually-hidden">Agent</span>
          <select id="agent" value={selected} onChange={(event) => setAgent(event.target.value)}>
            {agents.map((item) => (
              <option key={item.name} value={item.name} title={item.description}>
                {item.name}
              </option>
            ))}
          </select>
        </label>
        <span className="composer__hint">{agents.find((item) => item.name === selected)?.description}</span>
        <button type="submit" className="aw-button composer__run" disabled={busy || prompt.trim() === ''}>
          {busy ? 'Starting…' : 'Run'}
        </button>
      </div>
      {error ? (
        <p className="composer__error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

function RunsList({ runs, currentId }: { runs: RunSummary[]; currentId: string | undefined }) {
  const anyLive = runs.some((run) => run.status === 'running');
  const now = useNow(anyLive, 1000);
  if (runs.length === 0) return <p className="runs__empty">No runs yet.</p>;
  return (
    <ul className="runs">
      {runs.map((run) => (
        <li key={run.id}>
          <a
            className="runs__item"
            href={`/runs/${encodeURIComponent(run.id)}`}
            aria-current={run.id === currentId ? 'page' : undefined}
            data-status={run.status}
            onClick={(event) => {
              if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
              event.preventDefault();
              navigate(`/runs/${encodeURIComponent(run.id)}`);
            }}
          >
            <StatusIcon status={ICON_STATUS[run.status]} />
            <span className="runs__agent">{run.agent}</span>
            <span className="runs__time">{new Date(run.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}</span>
            <span className="aw-duration">{formatDuration((run.endedAt ?? now) - run.createdAt)}</span>
          </a>
        </li>
      ))}
    </ul>
  );
}
