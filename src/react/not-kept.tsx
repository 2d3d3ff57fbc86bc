/**
 * `<NotKept>`: the marker of what a server left out of a bounded state (`RunState.truncated`), shown
 * where the kept text, log lines, steps or tool calls begin.
 *
 * @module
 */

/** Props of {@link NotKept}. */
export interface NotKeptProps {
  /** How many were left out; nothing is shown for 0 or `undefined`. */
  count: number | undefined;
  /** What was left out. */
  unit: 'characters' | 'lines' | 'steps' | 'tool calls';
}

/** "… 1,234 earlier characters not kept" (`.aw-not-kept`), or nothing when nothing was left out. */
export function NotKept({ count, unit }: NotKeptProps) {
  if (!count) return null;
  const noun = count === 1 ? unit.slice(0, -1) : unit;
  return <p className="aw-not-kept">… {count.toLocaleString('en-US')} earlier {noun} not kept</p>;
}
