/**
 * `<Answer>`: the final answer as streaming, sanitised Markdown.
 *
 * @module
 */
import { memo, useMemo, useRef } from 'react';
import { BlockSplitter, calmTail, renderMarkdown } from './markdown.js';

/** Props of {@link Answer}. */
export interface AnswerProps {
  /** The answer so far. */
  text: string;
  /** True while more text may come (shows a caret, sets `aria-busy`). */
  streaming: boolean;
}

/**
 * The answer (`.aw-answer`). Not a live region — screen readers are told when it is complete, not
 * every token. Finished blocks are rendered once and memoised; only the open tail is re-parsed.
 * The HTML comes from {@link renderMarkdown}, which escapes raw HTML and drops unsafe links.
 */
export function Answer({ text, streaming }: AnswerProps) {
  const splitter = useRef<BlockSplitter | null>(null);
  splitter.current ??= new BlockSplitter();
  const { done, tail, openFence } = splitter.current.update(text);
  const groups: string[][] = [];
  for (let index = 0; index < done.length; index += GROUP_SIZE) groups.push(done.slice(index, index + GROUP_SIZE));
  return (
    <div className="aw-answer" aria-busy={streaming} data-streaming={streaming || undefined}>
      {groups.map((blocks, index) => (
        // Groups only ever append and a full group never changes, so the index is a stable key.
        // biome-ignore lint/suspicious/noArrayIndexKey: append-only list
        <BlockGroup key={index} blocks={blocks} />
      ))}
      {tail.trim() !== '' || streaming ? <Tail tail={tail} openFence={openFence} streaming={streaming} /> : null}
    </div>
  );
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
        {blocks.map((block, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: append-only list
          <MarkdownBlock key={index} markdown={block} />
        ))}
      </div>
    );
  },
  (previous, next) => previous.blocks.length === next.blocks.length && previous.blocks.every((block, index) => block === next.blocks[index]),
);

const MarkdownBlock = memo(function MarkdownBlock({ markdown }: { markdown: string }) {
  const html = useMemo(() => renderMarkdown(markdown), [markdown]);
  // biome-ignore lint/security/noDangerouslySetInnerHtml: renderMarkdown escapes raw HTML and filters links
  return <div className="aw-md aw-md--done" dangerouslySetInnerHTML={{ __html: html }} />;
});

function Tail({ tail, openFence, streaming }: { tail: string; openFence: boolean; streaming: boolean }) {
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
}
