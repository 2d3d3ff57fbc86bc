/**
 * Pre-formatted text (JSON, logs) folded behind "show more" past ~20 lines or 2 KB, with a copy button.
 *
 * @module
 */
import { useState } from 'react';
import { CopyButton } from './copy-button.js';

const MAX_LINES = 20;
const MAX_CHARS = 2048;

/** Props of {@link FoldedText}. */
export interface FoldedTextProps {
  /** What the text is ("Arguments", "Result"). */
  label: string;
  text: string;
  /** Shown in the error colour. */
  error?: boolean;
}

/** A labelled, scrollable, foldable block of pre-formatted text. */
export function FoldedText({ label, text, error = false }: FoldedTextProps) {
  const [expanded, setExpanded] = useState(false);
  const lines = text.split('\n');
  const long = lines.length > MAX_LINES || text.length > MAX_CHARS;
  const shown = long && !expanded ? lines.slice(0, MAX_LINES).join('\n').slice(0, MAX_CHARS) : text;
  return (
    <div className="aw-folded" data-error={error || undefined}>
      <div className="aw-folded__bar">
        <span className="aw-folded__label">{label}</span>
        <CopyButton label="Copy" ariaLabel={`Copy ${label.toLowerCase()}`} text={() => text} />
      </div>
      <pre className="aw-folded__text">{shown}</pre>
      {long ? (
        <button type="button" className="aw-link-button" aria-expanded={expanded} onClick={() => setExpanded(!expanded)}>
          {expanded ? 'Show less' : `Show more (${lines.length} lines)`}
        </button>
      ) : null}
    </div>
  );
}
