/**
 * Status icons: each status differs by shape, not only by colour.
 *
 * @module
 */

/** Props of {@link StatusIcon}. */
export interface StatusIconProps {
  status: 'queued' | 'running' | 'complete' | 'error' | 'cancelled';
}

/** A 16 px status icon: hollow dot, spinner, check, cross, slashed circle. Decorative (`aria-hidden`). */
export function StatusIcon({ status }: StatusIconProps) {
  return (
    <span className={`aw-icon aw-icon--${status}`} aria-hidden="true">
      <svg viewBox="0 0 16 16" width="16" height="16" focusable="false">
        {status === 'running' ? (
          <>
            <circle cx="8" cy="8" r="6" className="aw-icon__track" />
            <path d="M8 2a6 6 0 0 1 6 6" className="aw-icon__arc" />
          </>
        ) : status === 'complete' ? (
          <>
            <circle cx="8" cy="8" r="7" className="aw-icon__fill" />
            <path d="M4.8 8.2l2.1 2.1 4.3-4.6" className="aw-icon__mark" />
          </>
        ) : status === 'error' ? (
          <>
            <circle cx="8" cy="8" r="7" className="aw-icon__fill" />
            <path d="M5.6 5.6l4.8 4.8M10.4 5.6l-4.8 4.8" className="aw-icon__mark" />
          </>
        ) : status === 'cancelled' ? (
          <>
            <circle cx="8" cy="8" r="6" className="aw-icon__track" />
            <path d="M4 12L12 4" className="aw-icon__mark" />
          </>
        ) : (
          <circle cx="8" cy="8" r="4.5" className="aw-icon__track" />
        )}
      </svg>
    </span>
  );
}

/** The accordion chevron. */
export function Chevron() {
  return (
    <span className="aw-chevron" aria-hidden="true">
      <svg viewBox="0 0 16 16" width="14" height="14" focusable="false">
        <path d="M6 4l4 4-4 4" />
      </svg>
    </span>
  );
}
