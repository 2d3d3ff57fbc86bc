import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Answer } from './answer.js';

const render = (text: string, streaming: boolean) => renderToStaticMarkup(createElement(Answer, { text, streaming }));

describe('<Answer>', () => {
  it('shows the caret inside the last paragraph or list item while streaming, and never after it ends', () => {
    expect(render('Hello wor', true)).toContain('Hello wor<span class="aw-caret" aria-hidden="true"></span></p>');
    expect(render('- one\n- tw', true)).toContain('tw<span class="aw-caret" aria-hidden="true"></span></li>');
    expect(render('Hello world.', false)).not.toContain('aw-caret');
  });

  it('hides the caret in tables and open fences; an open fence is plain monospace text, not highlighted', () => {
    expect(render('| a | b |\n|---|---|\n| 1 | 2', true)).not.toContain('aw-caret');
    const open = render('Intro\n\n```js\nconst x = "<b>"', true);
    expect(open).toContain('<pre class="aw-code aw-code--open"><code>const x = &quot;&lt;b&gt;&quot;</code></pre>');
    expect(open).not.toContain('aw-tok-');
    const closed = render('Intro\n\n```js\nconst x = 1\n```\n', true);
    expect(closed).toContain('<span class="aw-tok-keyword">const</span>');
  });

  it('is busy while streaming and never a live region', () => {
    expect(render('x', true)).toMatch(/^<div class="aw-answer" aria-busy="true"/);
    expect(render('x', false)).toMatch(/^<div class="aw-answer" aria-busy="false"/);
    expect(render('x', true)).not.toContain('aria-live');
  });
});
