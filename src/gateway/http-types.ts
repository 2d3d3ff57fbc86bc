/**
 * The transport-neutral request and response the gateway's routes work with, so one core serves
 * both the Node `(req, res)` listener and the Web `fetch` handler.
 *
 * @module
 */

/** What a route sees of a request. */
export interface GatewayRequest {
  readonly method: string;
  readonly url: URL;
  header(name: string): string | undefined;
  /** The whole body as text. Rejects with `AW_BODY_TOO_LARGE` beyond `limit` bytes. */
  readBody(limit: number): Promise<string>;
  /** Aborts when the client goes away before the response is complete. */
  readonly signal: AbortSignal;
  /**
   * Who is calling: set by the core once it has authenticated the request, on the request itself
   * (an adapter's request may be a class whose parts, its signal, are made when first read).
   */
  principal?: string | undefined;
}

/** A request after authentication, as route handlers see it. */
export interface RouteRequest extends GatewayRequest {
  /** Who is calling; `undefined` when the gateway has no auth. */
  readonly principal: string | undefined;
}

/** Where a stream writes: the HTTP response body, with backpressure and disconnect. */
export interface StreamSink {
  /**
   * Writes a chunk (text, or UTF-8 bytes the sink must not change: they may be shared by other
   * streams); `false` means the consumer's buffer is full: wait for {@link ready}.
   */
  write(chunk: string | Uint8Array): boolean;
  /** Resolves when the consumer takes more, or when the stream is closed. */
  ready(): Promise<void>;
  /** True once the client has gone away. */
  readonly closed: boolean;
  /**
   * Sets the one function called when the client goes away, at once if it has: a callback, not a
   * signal, so a stream makes the one signal it needs itself. `undefined` clears it.
   */
  onClose(callback: (() => void) | undefined): void;
  /**
   * Drops the connection at once, with whatever is still buffered for it (the client stopped
   * reading); the sink then closes.
   */
  destroy(): void;
  /**
   * Optional: writes the last chunk and ends the response in one go (Node's `response.end(chunk)`:
   * one syscall for the final events and the end of the chunked body, not two). A stream calls it
   * at most once, as its last write; the adapter then leaves the response alone.
   */
  end?(chunk: string | Uint8Array): void;
}

/**
 * A streaming body: the adapter calls `pump` once and ends the response when it resolves. `pump`
 * writes within a turn of the loop (SSE writes `retry:` then): the Node adapter sends the headers
 * with that first write, not on their own.
 */
export interface StreamBody {
  pump(sink: StreamSink): Promise<void>;
}

/** What a route answers. */
export type GatewayResponse =
  | { kind: 'json'; status: number; headers?: Record<string, string>; body: unknown }
  | { kind: 'empty'; status: number; headers?: Record<string, string> }
  | { kind: 'bytes'; status: number; headers: Record<string, string>; body: Uint8Array }
  | { kind: 'stream'; status: number; headers: Record<string, string>; stream: StreamBody };
