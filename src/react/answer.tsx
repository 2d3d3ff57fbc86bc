/**
 * `<Answer>`: the final answer as streaming, sanitised Markdown.
 *
 * @module
 */
import { memo, useEffect, useReducer, useRef } from 'react';
import { nextFrame } from './hooks.js';
import { BlockSplitter, calmTail, renderMarkdown } from './markdown.js';

/** Props of {@link Answer}. */
export interface AnswerProps {
  /** The answer so far. */
  text: string;
  /** True while more text may come (shows a caret, sets `aria-busy`). */
  streaming: boolean;
}

/**
 * What one render may add of newly finished blocks: milliseconds of Markdown parsing and characters
 * of HTML. Creating the DOM, styling, laying out and painting it costs several times the parse
 * (about 1 ms per KB of HTML each on a slow core), so both are capped to keep a frame well inside
 * 16 ms. 4 KB a frame is ~240 KB/s, several times what 10,000 tokens/s produce, so a live stream is
 * never held back; a backlog (a page opened behind a fast stream, a replay) is shown over several
 * frames instead of in one long task. At least one block is added per render, so the answer always
 * advances.
 */
const BUDGET: RevealBudget = { parseMs: 3, htmlChars: 4096 };

/** Limits on what one render adds (see {@link BUDGET}). */
interface RevealBudget {
  parseMs: number;
  htmlChars: number;
}

const UNLIMITED: RevealBudget = { parseMs: Number.POSITIVE_INFINITY, htmlChars: Number.POSITIVE_INFINITY };

/**
 * The answer (`.aw-answer`). Not a live region — screen readers are told when it is complete, not
 * every token. Finished blocks are parsed once and memoised; only the open tail is re-parsed. A
 * backlog of finished blocks is revealed a few milliseconds of work per frame, in order; the open
 * tail shows once every block before it does. `data-shown-length` is how many characters of `text`
 * are in the DOM. The HTML comes from {@link renderMarkdown}, which escapes raw HTML and drops
 * unsafe links.
 */
export function Answer({ text, streaming }: AnswerProps) {
  const model = useRef<AnswerModel | null>(null);
  model.current ??= new AnswerModel();
  // On the server (renderToString) there are no frames to spread work over: everything at once.
  const view = model.current.update(text, typeof document === 'undefined' ? UNLIMITED : BUDGET);
  const [, wake] = useReducer((count: number) => count + 1, 0);
  const behind = view.html.length < view.blocks;
  useEffect(() => {
    if (behind) return nextFrame(wake);
  });
  const groups: string[][] = [];
  for (let index = 0; index < view.html.length; index += GROUP_SIZE) groups.push(view.html.slice(index, index + GROUP_SIZE));
  const shown = behind ? (view.ends[view.html.length - 1] ?? 0) : text.length;
  return (
    <div className="aw-answer" aria-busy={streaming} data-streaming={streaming || undefined} data-shown-length={shown}>
      {groups.map((blocks, index) => (
        // Groups only ever append and a full group never changes, so the index is a stable key.
        // biome-ignore lint/suspicious/noArrayIndexKey: append-only list
        <BlockGroup key={index} blocks={blocks} />
      ))}
      {!behind && (view.tail.trim() !== '' || streaming) ? <Tail tail={view.tail} openFence={view.openFence} streaming={streaming} /> : null}
    </div>
  );
}

/** The finished blocks of one answer, parsed to HTML as far as the time budget allows. */
class AnswerModel {
  private readonly splitter = new BlockSplitter();
  private text = '';
  /** Sanitised HTML of finished blocks 0…n−1 (parsed once each). */
  private html: string[] = [];

  update(text: string, budget: RevealBudget) {
    if (!text.startsWith(this.text)) this.html = [];
    this.text = text;
    const { done, ends, tail, openFence } = this.splitter.update(text);
    if (this.html.length < done.length) {
      const html = [...this.html];
      const deadline = performance.now() + budget.parseMs;
      let chars = 0;
      do {
        const block = renderMarkdown(done[html.length] as string);
        html.push(block);
        chars += block.length;
      } while (html.length < done.length && chars < budget.htmlChars && performance.now() < deadline);
      this.html = html;
    }
    return { html: this.html, blocks: done.length, ends, tail, openFence };
  }
}

/**
 * Finished blocks are grouped so that a long answer has a few dozen `content-visibility: auto`
 * containers (each skipped entirely while off-screen), not thousands, and a full group is never
 * looked at again by React.
 */
const GROUP_SIZE = 24;

const BlockGroup = memo(
  function BlockGroup({ blocks }: { blocks: string[] }) {
    return (
      <div className="aw-md-group">
        {blocks.map((html, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: append-only list
          <MarkdownBlock key={index} html={html} />
        ))}
      </div>
    );
  },
  (previous, next) => previous.blocks.length === next.blocks.length && previous.blocks.every((block, index) => block === next.blocks[index]),
);

const MarkdownBlock = memo(function MarkdownBlock({ html }: { html: string }) {
  // biome-ignore lint/security/noDangerouslySetInnerHtml: renderMarkdown escapes raw HTML and filters links
  return <div className="aw-md aw-md--done" dangerouslySetInnerHTML={{ __html: html }} />;
});

const Tail = memo(function Tail({ tail, openFence, streaming }: { tail: string; openFence: boolean; streaming: boolean }) {
  if (openFence) {
    // An open fence is plain monospace text until it closes (then it is a finished, highlighted block).
    const body = tail.replace(/^[^\n]*\n?/, '');
    return (
      <pre className="aw-code aw-code--open">
        <code>{body}</code>
      </pre>
    );
  }
  let html = streaming ? renderMarkdown(calmTail(tail)) : renderMarkdown(tail);
  if (streaming) {
    const caret = '<span class="aw-caret" aria-hidden="true"></span>';
    // Inside the last paragraph, item or heading; never after a table or a code block.
    html = html.replace(/<\/(p|li|h[1-6])>(\s*(?:<\/(?:ul|ol)>\s*)*)$/, `${caret}</$1>$2`);
  }
  // biome-ignore lint/security/noDangerouslySetInnerHtml: renderMarkdown escapes raw HTML and filters links
  return <div className="aw-md aw-md--tail" dangerouslySetInnerHTML={{ __html: html }} />;
});
