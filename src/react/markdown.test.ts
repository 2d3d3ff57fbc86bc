import { describe, expect, it } from 'vitest';
import { BlockSplitter, calmTail, isSafeHref, renderMarkdown } from './markdown.js';

describe('BlockSplitter', () => {
  it('keeps finished blocks identical as text streams in, and never ends a block inside an open fence', () => {
    const text = 'Intro line.\n\n```js\nconst a = 1;\n\nconst b = 2;\n```\nAfter the fence.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nTail';
    const splitter = new BlockSplitter();
    let previous: string[] = [];
    for (let end = 1; end <= text.length; end++) {
      const { done, tail, openFence } = splitter.update(text.slice(0, end));
      // Finished blocks only ever append: a block, once done, never changes.
      expect(done.slice(0, previous.length)).toEqual(previous);
      // Nothing is lost: the tail is what follows the finished blocks.
      expect(text.slice(0, end).endsWith(tail)).toBe(true);
      expect(done.join('').replace(/\n/g, '').length + tail.replace(/\n/g, '').length).toBe(text.slice(0, end).replace(/\n/g, '').length);
      if (text.slice(0, end).endsWith('const a = 1;\n\n')) expect(openFence).toBe(true);
      previous = done;
    }
    const final = splitter.update(text);
    expect(final.done[0]).toBe('Intro line.\n');
    expect(final.done[1]).toBe('```js\nconst a = 1;\n\nconst b = 2;\n```\n');
    expect(final.tail).toBe('Tail');
  });

  it('says where the text after each finished block starts, blank lines included, so a partial reveal knows how much it shows', () => {
    const text = 'One.\n\n\nTwo.\n\n```js\nx\n```\nThree';
    const { done, ends, tail } = new BlockSplitter().update(text);
    expect(done).toEqual(['One.\n', 'Two.\n', '```js\nx\n```\n']);
    expect(ends.map((end) => text.slice(end))).toEqual(['Two.\n\n```js\nx\n```\nThree', '```js\nx\n```\nThree', 'Three']);
    expect(tail).toBe('Three');
  });

  it('starts over when the text is replaced rather than extended', () => {
    const splitter = new BlockSplitter();
    splitter.update('one\n\ntwo');
    expect(splitter.update('other\n\n').done).toEqual(['other\n']);
  });
});

describe('calmTail', () => {
  it('closes unterminated emphasis and inline code, and shows a dangling link as its text', () => {
    expect(calmTail('some **bold')).toBe('some **bold**');
    expect(calmTail('use `npm')).toBe('use `npm`');
    expect(calmTail('see [the docs](https://exa')).toBe('see the docs');
    expect(calmTail('* item *em')).toBe('* item *em*');
    expect(calmTail('complete **bold** text')).toBe('complete **bold** text');
  });
});

describe('renderMarkdown sanitising', () => {
  it('escapes raw HTML, drops javascript:/data: links, and turns images into text', () => {
    const html = renderMarkdown('<img src=x onerror=alert(1)> <script>alert(2)</script> [a](javascript:alert(3)) [b](data:text/html,x) [c](https://ok.example) ![p](https://t.example/p.png)');
    expect(html).not.toMatch(/<img|<script|href="javascript|href="data/i);
    expect(html).toContain('&lt;img');
    expect(html).toContain('<a href="https://ok.example" target="_blank" rel="noopener noreferrer nofollow">c</a>');
    expect(html).toContain('<span class="aw-md-image"');
  });

  it('highlights finished code blocks without letting markup through', () => {
    const html = renderMarkdown('```js\nconst a = "<img src=x onerror=alert(1)>"; // </span><script>\n```');
    expect(html).toContain('<span class="aw-tok-keyword">const</span>');
    expect(html).toContain('<span class="aw-tok-string">&quot;&lt;img src=x onerror=alert(1)&gt;&quot;</span>');
    expect(html).toContain('<span class="aw-tok-comment">// &lt;/span&gt;&lt;script&gt;</span>');
    expect(html).not.toMatch(/<img|<script/);
  });

  it('accepts only http(s) and mailto links', () => {
    expect(isSafeHref('https://a.example')).toBe(true);
    expect(isSafeHref('mailto:a@b.example')).toBe(true);
    expect(isSafeHref(' JavaScript:alert(1)')).toBe(false);
    expect(isSafeHref('/relative')).toBe(false);
  });
});
