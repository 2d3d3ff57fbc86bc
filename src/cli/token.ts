/**
 * The bearer token `tail` and `doctor` send: the same flag, the same environment variable, the
 * same help text, so a token exported once works for both.
 *
 * @module
 */

/** The help text of `-t, --token`. */
export const TOKEN_HELP = 'bearer token (or env AGENTWIRE_TOKEN)';

/** `--token` when given, else `AGENTWIRE_TOKEN`; an empty value counts as none. */
export function resolveToken(flag: string | undefined): string | undefined {
  const token = flag ?? process.env.AGENTWIRE_TOKEN;
  return token ? token : undefined;
}
