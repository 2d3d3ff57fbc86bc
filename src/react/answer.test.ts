import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Answer, AnswerModel } from './answer.js';

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

  it('shows a few finished blocks at once whatever the budget, and spreads a real backlog over renders', () => {
    const nothing = { htmlCharsPerMs: 0, parseShare: 0 };
    const paragraphs = (count: number) => Array.from({ length: count }, (_, index) => `Paragraph ${index}.`).join('\n\n');
    // A live stream finishes a block or two at a time: shown at once (3 finished, the 4th open).
    expect(new AnswerModel().update(paragraphs(4), nothing).html).toHaveLength(3);
    // A backlog of 40 finished blocks: one per render at this budget, the last 3 together.
    const model = new AnswerModel();
    const shown: number[] = [];
    for (let render = 0; render < 60 && shown.at(-1) !== 40; render++) shown.push(model.update(paragraphs(41), nothing).html.length);
    expect(shown.slice(0, 3)).toEqual([1, 2, 3]);
    expect(shown.at(-1)).toBe(40);
    expect(shown.length).toBe(37);
  });
});
