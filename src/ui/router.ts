/**
 * The page's tiny router: `/` (new run) and `/runs/:id` (a run), with history navigation.
 *
 * @module
 */
import { useEffect, useState } from 'react';

/** The run id in the current URL, if any. */
export function runIdFromPath(pathname: string): string | undefined {
  const match = /^\/runs\/([^/]+)\/?$/.exec(pathname);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

/** Navigates without reloading. */
export function navigate(path: string): void {
  if (location.pathname === path) return;
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** The current path, updated on navigation. */
export function usePathname(): string {
  const [pathname, setPathname] = useState(() => location.pathname);
  useEffect(() => {
    const update = () => setPathname(location.pathname);
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return pathname;
}
