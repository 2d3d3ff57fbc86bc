/**
 * A small, safe syntax highlighter for finished code blocks: comments, strings, numbers and
 * keywords of C-like languages, shell and Python. Every piece of the source is HTML-escaped before
 * it is wrapped, so highlighting can never let markup through.
 *
 * @module
 */
import { escapeHtml } from './markdown.js';

const KEYWORDS = new Set(
  (
    'as async await break case catch class const continue def default del do elif else enum export extends false finally for from function ' +
    'if import in interface is lambda let new None not null of or pass raise return self static super switch this throw true True False try type typeof undefined var void while with yield'
  ).split(' '),
);

// Order matters: comments and strings first, so keywords inside them stay plain.
const TOKENS = /(\/\/[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\/)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_$][\w$]*)/g;

/** Returns the code as escaped HTML with `aw-tok-*` spans. `#` comments only count for shell/Python-like languages. */
export function highlightCode(code: string, language: string): string {
  const hashComments = /^(?:sh|bash|zsh|shell|py|python|rb|ruby|yaml|yml|toml)$/i.test(language);
  let html = '';
  let last = 0;
  for (const match of code.matchAll(TOKENS)) {
    const [text, comment, string, number, word] = match;
    const start = match.index;
    let kind: string | undefined;
    if (comment !== undefined) kind = comment.startsWith('#') && !hashComments ? undefined : 'comment';
    else if (string !== undefined) kind = 'string';
    else if (number !== undefined) kind = 'number';
    else if (word !== undefined && KEYWORDS.has(word)) kind = 'keyword';
    if (kind === undefined) continue;
    html += escapeHtml(code.slice(last, start));
    html += `<span class="aw-tok-${kind}">${escapeHtml(text)}</span>`;
    last = start + text.length;
  }
  return html + escapeHtml(code.slice(last));
}
