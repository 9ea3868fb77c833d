/**
 * Frame codec: a frame is one msgpack array holding a batch of messages. Batching many messages per frame (one per
 * event-loop turn, see connection.ts) is what gives the protocol its throughput.
 */
import { Packr } from 'msgpackr';
import { FrameTooLargeError, ProtocolError } from './errors.js';
import type { Message } from './messages.js';
import { validateMessage } from './validate.js';

// Plain maps only: no records or structured clone on protocol frames, so any peer can decode them.
const framePackr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

/** Encodes a batch; splits it into several frames so that none exceeds maxBytes when that is possible. */
export function encodeFrames(messages: readonly Message[], maxBytes: number): Uint8Array[] {
  const frame = framePackr.pack(messages) as Uint8Array;
  if (frame.byteLength <= maxBytes) return [frame];
  if (messages.length === 1) {
    throw new FrameTooLargeError(
      `a '${messages[0]!.type}' message of ${frame.byteLength} bytes exceeds the maximum frame size of ${maxBytes} bytes`,
    );
  }
  const mid = messages.length >> 1;
  return [...encodeFrames(messages.slice(0, mid), maxBytes), ...encodeFrames(messages.slice(mid), maxBytes)];
}

/** Decodes and validates a frame; throws ProtocolError on anything malformed. */
export function decodeFrame(data: Uint8Array): Message[] {
  let decoded: unknown;
  try {
    decoded = framePackr.unpack(data);
  } catch (error) {
    throw new ProtocolError(`malformed frame: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(decoded)) throw new ProtocolError('malformed frame: not an array of messages');
  return decoded.map(validateMessage);
}
