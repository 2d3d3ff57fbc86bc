/**
 * `<Answer>`: the final answer as streaming, sanitised Markdown.
 *
 * @module
 */
import { memo, useEffect, useReducer, useRef } from 'react';
import { nextFrame } from '../client/next-frame.js';
import { BlockSplitter, calmTail, renderMarkdown } from './markdown.js';

/** Props of {@link Answer}. */
export interface AnswerProps {
  /** The answer so far. */
  text: string;
  /** True while more text may come (shows a caret, sets `aria-busy`). */
  streaming: boolean;
}

/**
 * How fast newly finished blocks are added to the DOM. Creating the DOM, styling, laying out and
 * painting costs several times the Markdown parse (about 1 ms per KB of HTML each on a slow core), so
 * a render adds about one frame's worth: {@link FRAME_MS} × 300 characters of HTML per ms (~5 KB),
 * with at most a quarter of that time spent parsing. A backlog (a page opened behind a fast stream,
 * a replay) is shown over several frames instead of in one long task; 300 KB/s is three times what
 * 10,000 tokens/s of Markdown produce, so a live stream at 60 frames/s is never held back. When
 * frames are slow (a loaded machine) and the answer has been behind for longer than
 * {@link LAG_BOUND_MS}, the allowance grows with the time since the previous render (up to
 * {@link MAX_STEP_MS}), so the lag stays bounded instead of growing with the stream. At least one
 * block is added per render, so the answer always advances.
 */
const BUDGET: RevealBudget = { htmlCharsPerMs: 300, parseShare: 0.25 };
/** One frame at 60 Hz (ms): the normal step of the allowance. */
const FRAME_MS = 1000 / 60;
/** How long the answer may stay behind the data before the allowance follows the clock (ms; UI.md: ≤ 250). */
const LAG_BOUND_MS = 250;
/**
 * A backlog this small is shown whole in one render, whatever the budget: a live stream finishes a
 * block or two per frame, and holding them back only adds lag (most of all while the page's code is
 * still cold and parses slowly). The budget is for real backlogs: a replay, a page opened late.
 */
const FEW_BLOCKS = 3;
/** The longest gap between renders the allowance grows with (ms): a stall does not buy a huge frame. */
const MAX_STEP_MS = 100;

/** Limits on what one render adds (see {@link BUDGET}). */
export interface RevealBudget {
  htmlCharsPerMs: number;
  parseShare: number;
}

const UNLIMITED: RevealBudget = { htmlCharsPerMs: Number.POSITIVE_INFINITY, parseShare: Number.POSITIVE_INFINITY };

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

/** The finished blocks of one answer, parsed to HTML as fast as the budget allows. Exported for tests. */
export class AnswerModel {
  private readonly splitter = new BlockSplitter();
  private text = '';
  /** Sanitised HTML of finished blocks 0…n−1 (parsed once each). */
  private html: string[] = [];
  /** When the previous update ran (performance.now()). */
  private updatedAt = Number.NEGATIVE_INFINITY;
  /** Since when finished blocks have been waiting to be shown, if they are. */
  private behindSince: number | undefined;

  update(text: string, budget: RevealBudget) {
    if (!text.startsWith(this.text)) this.html = [];
    this.text = text;
    const { done, ends, tail, openFence } = this.splitter.update(text);
    const now = performance.now();
    const lagging = this.behindSince !== undefined && now - this.behindSince > LAG_BOUND_MS;
    // Two renders in one frame (the store's update and the reveal's own) share one frame's allowance.
    const elapsed = now - this.updatedAt;
    const step = lagging ? Math.min(MAX_STEP_MS, Math.max(FRAME_MS, elapsed)) : Math.min(FRAME_MS, elapsed);
    this.updatedAt = now;
    if (this.html.length < done.length) {
      const html = [...this.html];
      const allowance = budget.htmlCharsPerMs * step;
      const deadline = now + budget.parseShare * step;
      let chars = 0;
      do {
        const block = renderMarkdown(done[html.length] as string);
        html.push(block);
        chars += block.length;
      } while (html.length < done.length && ((chars < allowance && performance.now() < deadline) || done.length - html.length <= FEW_BLOCKS));
      this.html = html;
    }
    this.behindSince = this.html.length < done.length ? (this.behindSince ?? now) : undefined;
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
