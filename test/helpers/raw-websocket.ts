/**
 * A WebSocket client at the byte level, for what the `ws` client will not do: write thousands of
 * frames in one go, read nothing, then read everything the server sent (close frame included).
 */
import { randomBytes } from 'node:crypto';
import { type Socket, connect } from 'node:net';

/** A masked client frame (FIN set) with `opcode` (1 text, 8 close) and `payload`. */
export function clientFrame(opcode: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (body.length > 125) throw new Error('clientFrame builds small frames only');
  const mask = randomBytes(4);
  const frame = Buffer.alloc(6 + body.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | body.length;
  mask.copy(frame, 2);
  for (let index = 0; index < body.length; index++) frame[6 + index] = (body[index] as number) ^ (mask[index % 4] as number);
  return frame;
}

/** A frame the server sent. */
export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/** Splits the bytes a server sent into frames (unmasked, any length); a partial last frame is left out. */
export function serverFrames(bytes: Buffer): ServerFrame[] {
  const frames: ServerFrame[] = [];
  let offset = 0;
  while (offset + 2 <= bytes.length) {
    const opcode = (bytes[offset] as number) & 0x0f;
    let length = (bytes[offset + 1] as number) & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > bytes.length) break;
    frames.push({ opcode, payload: bytes.subarray(start, start + length) });
    offset = start + length;
  }
  return frames;
}

/** Opens `/api/ws` on a raw socket: resolves once the 101 is in, with the socket paused and the bytes after the 101. */
export function openRawWebSocket(baseUrl: string): Promise<{ socket: Socket; rest: Buffer }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.pause();
      const head = received.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`no upgrade: ${head.split('\r\n')[0]}`));
      resolve({ socket, rest: received.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(
      `GET /api/ws HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}
