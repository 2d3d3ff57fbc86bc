/**
 * The WebSocket transport's high-water mark: how much a socket may have buffered before whatever
 * writes to it (a subscription's events, the replies to the client's frames) waits for it to drain.
 * One mark for every writer, so no kind of frame can grow a socket's buffer past it.
 *
 * @module
 */
import type { WebSocket } from 'ws';

/** Bytes buffered for a socket before its writers wait for it to drain. */
export const WS_HIGH_WATER = 256 * 1024;

/**
 * Sends `frame` on `ws`. Returns `undefined` when the socket's buffer stays within the high-water
 * mark; otherwise sends it anyway and returns a promise that resolves once the frame, and so
 * everything buffered before it, has been handed to the socket (or the socket closed): the caller
 * sends nothing more until then.
 */
export function sendWithinHighWater(ws: WebSocket, frame: string): Promise<void> | undefined {
  if (ws.bufferedAmount + frame.length <= WS_HIGH_WATER) {
    ws.send(frame);
    return undefined;
  }
  return new Promise<void>((resolve) => ws.send(frame, () => resolve()));
}
