/**
 * Small view hooks shared by the components: a ticking clock, bottom-pinned scrolling, sticky
 * per-step open/closed choices.
 *
 * @module
 */
import { type RefObject, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';

/** `Date.now()`, refreshed every `intervalMs` while `active` (for live durations). */
export function useNow(active: boolean, intervalMs = 250): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return active ? now : now;
}

/**
 * Keeps a scroll box pinned to its bottom as content grows, unless the reader scrolled up.
 * Returns whether the box is pinned.
 */
export function useStickToBottom(ref: RefObject<HTMLElement | null>, content: unknown): boolean {
  const pinned = useRef(true);
  const [isPinned, setPinned] = useState(true);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const onScroll = () => {
      const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
      pinned.current = atBottom;
      setPinned(atBottom);
    };
    element.addEventListener('scroll', onScroll, { passive: true });
    return () => element.removeEventListener('scroll', onScroll);
  }, [ref]);
  useLayoutEffect(() => {
    const element = ref.current;
    if (element && pinned.current) element.scrollTop = element.scrollHeight;
  }, [ref, content]);
  return isPinned;
}

/** The user's open/closed choices per step: `true` opened, `false` closed, absent = automatic. */
export type StepToggles = Readonly<Record<string, boolean>>;

/**
 * Sticky per-step open/closed choices for one run, kept in `sessionStorage` so a reload (or a
 * replay, or a reconnect) keeps them.
 */
export function useStepToggles(runId: string | undefined): [StepToggles, (stepId: string, open: boolean) => void] {
  const key = runId === undefined ? undefined : `agentwire:toggles:${runId}`;
  const [toggles, setToggles] = useState<StepToggles>(() => load(key));
  const loadedKey = useRef(key);
  if (loadedKey.current !== key) {
    loadedKey.current = key;
    const loaded = load(key);
    setToggles(loaded);
  }
  const setToggle = useCallback(
    (stepId: string, open: boolean) => {
      setToggles((previous) => {
        const next = { ...previous, [stepId]: open };
        if (key !== undefined) {
          try {
            sessionStorage.setItem(key, JSON.stringify(next));
          } catch {
            // Storage full or disabled: the choice still holds for this page.
          }
        }
        return next;
      });
    },
    [key],
  );
  return [toggles, setToggle];
}

function load(key: string | undefined): StepToggles {
  if (key === undefined || typeof sessionStorage === 'undefined') return {};
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(key) ?? '{}');
    return typeof parsed === 'object' && parsed !== null ? (parsed as StepToggles) : {};
  } catch {
    return {};
  }
}

