/**
 * Streaming-safe, sanitised Markdown: the answer is split into blocks; finished blocks are parsed
 * once (the caller memoises them), only the open tail is re-parsed on each update, and the tail's
 * incomplete syntax is closed for display. Raw HTML is escaped, only `http(s)` and `mailto` links
 * survive, images are shown as their alt text.
 *
 * @module
 */
import { Marked, type Tokens } from 'marked';
import { highlightCode } from './highlight.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] as string);
}

/** True for links a reader may follow: `http:`, `https:` and `mailto:` only. */
export function isSafeHref(href: string): boolean {
  return /^(?:https?:\/\/|mailto:)/i.test(href.trim());
}

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(text);
    },
    link(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, { href, title, tokens }: Tokens.Link) {
      const text = this.parser.parseInline(tokens);
      if (!isSafeHref(href)) return text;
      const titleAttribute = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(href)}"${titleAttribute} target="_blank" rel="noopener noreferrer nofollow">${text}</a>`;
    },
    image({ text }: Tokens.Image) {
      return `<span class="aw-md-image" title="remote images are off">${escapeHtml(text || 'image')}</span>`;
    },
    code({ text, lang }: Tokens.Code) {
      const language = (lang ?? '').match(/^[\w+-]+/)?.[0] ?? '';
      const label = language ? ` data-lang="${escapeHtml(language)}"` : '';
      // Only finished blocks reach here (an open fence is shown as plain text), so highlight once.
      return `<pre class="aw-code"${label}><code>${highlightCode(text, language)}</code></pre>`;
    },
  },
});

/** Renders one finished Markdown block to sanitised HTML. */
export function renderMarkdown(markdown: string): string {
  return marked.parse(markdown) as string;
}

/** The answer split for rendering: finished blocks and the open tail. */
export interface MarkdownBlocks {
  /** Blocks that can no longer change (each ends before a blank line or at a closed fence). */
  done: string[];
  /** For each finished block, where the text after it starts (so `text.slice(0, ends[i])` is shown once blocks 0…i are). */
  ends: number[];
  /** Text after the last finished block. */
  tail: string;
  /** True while the tail is inside an unterminated code fence. */
  openFence: boolean;
}

/**
 * Splits Markdown text into finished blocks and an open tail, incrementally: when the text only
 * grew, scanning resumes where it stopped, so each update costs the new text, not the whole answer.
 */
export class BlockSplitter {
  private text = '';
  private done: string[] = [];
  private ends: number[] = [];
  /** Where the current (open) block starts. */
  private blockStart = 0;
  /** Where the next unscanned line starts. */
  private lineStart = 0;
  private fence: string | undefined;

  /** Updates with the whole text so far and returns the split. */
  update(text: string): MarkdownBlocks {
    if (!text.startsWith(this.text)) this.reset();
    this.text = text;
    for (;;) {
      const newline = text.indexOf('\n', this.lineStart);
      if (newline === -1) break;
      const line = text.slice(this.lineStart, newline);
      const next = newline + 1;
      const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (this.fence === undefined) {
        if (marker) this.fence = marker;
        else if (line.trim() === '') this.finish(this.lineStart, next);
      } else if (marker && marker[0] === this.fence[0] && marker.length >= this.fence.length && line.trim() === marker) {
        this.fence = undefined;
        this.finish(next, next);
      }
      this.lineStart = next;
    }
    return { done: this.done, ends: this.ends, tail: text.slice(this.blockStart), openFence: this.fence !== undefined };
  }

  private finish(end: number, next: number): void {
    const block = this.text.slice(this.blockStart, end);
    if (block.trim() !== '') {
      this.done = [...this.done, block];
      this.ends = [...this.ends, next];
    } else if (this.ends.length > 0) {
      // Blank lines between blocks belong to the block before them.
      this.ends = [...this.ends.slice(0, -1), next];
    }
    this.blockStart = next;
  }

  private reset(): void {
    this.text = '';
    this.done = [];
    this.ends = [];
    this.blockStart = 0;
    this.lineStart = 0;
    this.fence = undefined;
  }
}

/**
 * Closes the incomplete inline syntax of a streaming tail so it renders calmly: a dangling link
 * target shows as its text, an odd backtick, `**` or `*` is closed.
 */
export function calmTail(tail: string): string {
  let text = tail.replace(/\[([^\]\n]*)\]\([^)\n]*$/, '$1').replace(/\[([^\]\n]*)$/, '$1');
  if ((text.match(/`/g)?.length ?? 0) % 2 === 1) text += '`';
  const code = text.replace(/`[^`]*`/g, '');
  const strong = code.match(/\*\*/g)?.length ?? 0;
  if (strong % 2 === 1) text += '**';
  // Single stars that are not list bullets.
  const single = code.replace(/\*\*/g, '').replace(/^\s*\*\s/gm, '').match(/\*/g)?.length ?? 0;
  if (single % 2 === 1) text += '*';
  return text;
}
