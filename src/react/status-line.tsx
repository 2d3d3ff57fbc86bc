/**
 * `<StatusLine>`: the run's transient status line ("Searching vector index…").
 *
 * @module
 */

/** Props of {@link StatusLine}. */
export interface StatusLineProps {
  /** The latest `status` message; nothing is rendered without one. */
  message: string | undefined;
}

/** The transient status line (`.aw-status-line`), shimmering unless reduced motion is asked for. */
export function StatusLine({ message }: StatusLineProps) {
  if (!message) return null;
  return <p className="aw-status-line">{message}</p>;
}
