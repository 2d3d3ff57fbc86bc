import { describe, expect, it } from 'vitest';
import { defineAgent } from '../../producer/agent.js';
import { createGateway } from '../create-gateway.js';

describe('fetch handler', () => {
  it('streams the same run to several subscribers, the live batches they share as bytes included', async () => {
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const gateway = createGateway({
      uiDir: false,
      agents: [
        defineAgent('gated', async function* () {
          await released;
          yield 'Paris ';
          yield 'is the capital.';
        }),
      ],
    });
    try {
      const start = await gateway.fetch(new Request('http://gateway.test/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"agent":"gated","input":null}' }));
      const { id } = (await start.json()) as { id: string };
      const responses = await Promise.all([1, 2, 3].map(() => gateway.fetch(new Request(`http://gateway.test/api/runs/${id}/events`))));
      const readers = responses.map((response) => response.body?.getReader());
      const utf8 = new TextDecoder();
      /** Reads a body until it has `run.started`, then (after release) to its end. */
      const readUntil = async (reader: ReadableStreamDefaultReader<Uint8Array> | undefined, until: string | undefined) => {
        let text = '';
        for (;;) {
          const next = await reader?.read();
          if (!next || next.done) return text;
          text += utf8.decode(next.value);
          if (until !== undefined && text.includes(until)) return text;
        }
      };
      const heads = await Promise.all(readers.map((reader) => readUntil(reader, 'event: run.started')));
      release();
      const tails = await Promise.all(readers.map((reader) => readUntil(reader, undefined)));
      const bodies = heads.map((head, index) => head + tails[index]);
      expect(bodies[0]).toMatch(/^retry: \d+\n\nid: 1\nevent: run.started\n.*id: 2\nevent: text.delta\n.*"text":"Paris ".*id: 3\nevent: text.delta\n.*event: run.finished\n/s);
      expect(bodies[1]).toBe(bodies[0]);
      expect(bodies[2]).toBe(bodies[0]);
    } finally {
      await gateway.close();
    }
  });

  it('errors the body of a stream whose reader reads nothing for the stall timeout', async () => {
    const gateway = createGateway({
      uiDir: false,
      heartbeatMs: 50,
      stallTimeoutMs: 200,
      agents: [
        defineAgent('flood', async function* () {
          // Far more than the body buffers (64 KiB) ahead of a reader; bounded.
          for (let index = 0; index < 200; index++) yield 'x'.repeat(8 * 1024);
        }),
      ],
    });
    try {
      const response = await gateway.fetch(
        new Request('http://gateway.test/api/runs', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: '{"agent":"flood","input":null}' }),
      );
      const reader = response.body?.getReader();
      expect(reader).toBeDefined();
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      // Reads nothing: the stream is dropped, its body errored (the queued chunks dropped with it).
      await expect(reader?.closed).rejects.toThrow(/stall timeout/);
    } finally {
      await gateway.close();
    }
  });
});
