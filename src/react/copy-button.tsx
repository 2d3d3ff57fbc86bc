/**
 * `<CopyButton>`: copies text to the clipboard, reading it at the moment of the click (so it copies
 * what has streamed so far, even mid-stream).
 *
 * @module
 */
import { useEffect, useRef, useState } from 'react';

/** Props of {@link CopyButton}. */
export interface CopyButtonProps {
  /** The button's text ("Copy answer"); it reads "Copied" for a moment after a copy. */
  label: string;
  /** The text to copy, read at click time. */
  text: () => string;
  /** An accessible name when the visible label is not enough ("Copy step Search the web"). */
  ariaLabel?: string;
}

/** How long the button says "Copied" (ms). */
const COPIED_MS = 1200;

/** A small ghost button that copies `text()`; says "Copied" when the clipboard took it. */
export function CopyButton({ label, text, ariaLabel }: CopyButtonProps) {
  const [copied, setCopied] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const copy = () => {
    // No clipboard (an insecure origin, a denied permission): the button stays as it was.
    void navigator.clipboard?.writeText(text()).then(
      () => {
        setCopied(true);
        clearTimeout(timer.current);
        timer.current = setTimeout(() => setCopied(false), COPIED_MS);
      },
      () => undefined,
    );
  };
  return (
    <button type="button" className="aw-button aw-button--ghost aw-button--small aw-copy" aria-label={ariaLabel} data-copied={copied || undefined} onClick={copy}>
      {copied ? 'Copied' : label}
    </button>
  );
}
