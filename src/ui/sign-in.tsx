/**
 * The sign-in form shown when the gateway answers 401: a password field for a bearer token, checked
 * against the gateway before the page keeps it.
 *
 * @module
 */
import { type FormEvent, useState } from 'react';
import { checkToken } from './api.js';

/** Asks for a token; calls `onSignedIn` with it once the gateway accepts it. */
export function SignIn({ notice, onSignedIn }: { notice: string | undefined; onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const offered = token.trim();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (busy || offered === '') return;
    setBusy(true);
    setError(undefined);
    checkToken(offered).then(
      (result) => {
        setBusy(false);
        if (result === 'accepted') onSignedIn(offered);
        else setError('This token was not accepted. Check that you pasted all of it (with --auth-token alice:TOKEN, only the part after the colon).');
      },
      (failure: unknown) => {
        setBusy(false);
        setError(`Could not reach the gateway: ${failure instanceof Error ? failure.message : String(failure)}`);
      },
    );
  };
  return (
    <main className="signin">
      <form className="signin__card" aria-labelledby="signin-title" onSubmit={submit}>
        <div className="app__brand">
          <span className="app__logo" aria-hidden="true" />
          agentwire
        </div>
        <h1 id="signin-title">Sign in</h1>
        <p className="signin__text">This gateway needs an access token. It is kept in this tab until you close it or sign out.</p>
        {notice && !error ? (
          <p className="signin__notice" role="status">
            {notice}
          </p>
        ) : null}
        <label className="signin__label" htmlFor="token">
          Access token
        </label>
        <input
          id="token"
          className="signin__input"
          type="password"
          autoComplete="current-password"
          spellCheck={false}
          value={token}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'signin-error' : undefined}
          onChange={(event) => setToken(event.target.value)}
          // biome-ignore lint/a11y/noAutofocus: the form is the only thing on the page
          autoFocus
        />
        {error ? (
          <p className="signin__error" id="signin-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="aw-button signin__submit" disabled={busy || offered === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
