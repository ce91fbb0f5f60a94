// Frames on a worker's pipe: a 4-byte big-endian length, then a msgpack body.
// The decoder is fed arbitrary chunks; a frame over the cap or one that does not
// decode is a ProtocolError, after which the stream cannot be trusted and is dropped.
// The plain-JS build: the package's root entry also loads its native string extractor and record
// extension, which cost a process ~10 ms to start and only pay off on large strings, not on control messages.
import { Packr } from 'msgpackr/pack';
import { Unpackr } from 'msgpackr/unpack';
import { ProtocolError } from '../errors.js';

export const FRAME_HEADER_BYTES = 4;
/** Control messages are small; anything this large is a corrupt or hostile stream. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

// Plain msgpack (no record extension) so any msgpack reader can follow the pipe.
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

export function encodeFrame(message: unknown): Buffer {
  const body = packr.pack(message);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export class FrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /**
   * Every complete message in the bytes seen so far, and the error that ended
   * the stream if a bad frame came after them (messages before it still count).
   */
  push(chunk: Buffer): { messages: unknown[]; error?: ProtocolError } {
    if (this.failed) return { messages: [] };
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const messages: unknown[] = [];
    let offset = 0;
    while (this.buffered.length - offset >= FRAME_HEADER_BYTES) {
      const length = this.buffered.readUInt32BE(offset);
      if (length > this.maxFrameBytes) {
        this.fail();
        const error = new ProtocolError(
          'CORRAL_ERR_IPC_FRAME_TOO_LARGE',
          `frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte cap`,
        );
        return { messages, error };
      }
      if (this.buffered.length - offset < FRAME_HEADER_BYTES + length) break;
      const body = this.buffered.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length);
      offset += FRAME_HEADER_BYTES + length;
      try {
        messages.push(unpackr.unpack(body));
      } catch (cause) {
        this.fail();
        const error = new ProtocolError('CORRAL_ERR_IPC_BAD_FRAME', `frame body is not valid msgpack (${(cause as Error).message})`, {
          cause,
        });
        return { messages, error };
      }
    }
    this.buffered = offset === this.buffered.length ? Buffer.alloc(0) : this.buffered.subarray(offset);
    return { messages };
  }

  private fail() {
    this.failed = true;
    this.buffered = Buffer.alloc(0);
  }
}
