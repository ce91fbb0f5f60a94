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
  /** Bytes received and not yet decoded, as they came: joined once per frame, not at every chunk (a 16 MB frame in 64 KB reads was 2 GB of copying). */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed = false;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /**
   * Every complete message in the bytes seen so far, and the error that ended
   * the stream if a bad frame came after them (messages before it still count).
   */
  push(chunk: Buffer): { messages: unknown[]; error?: ProtocolError } {
    if (this.failed) return { messages: [] };
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const messages: unknown[] = [];
    while (this.buffered >= FRAME_HEADER_BYTES) {
      const length = this.peekLength();
      if (length > this.maxFrameBytes) {
        this.fail();
        const error = new ProtocolError(
          'CORRAL_ERR_IPC_FRAME_TOO_LARGE',
          `frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte cap`,
        );
        return { messages, error };
      }
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      const body = this.take(FRAME_HEADER_BYTES + length).subarray(FRAME_HEADER_BYTES);
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
    return { messages };
  }

  /** The next frame's length, from its header (which may be split across chunks). */
  private peekLength(): number {
    const first = this.chunks[0];
    if (first.length >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    let filled = 0;
    for (const chunk of this.chunks) {
      filled += chunk.copy(header, filled, 0, Math.min(chunk.length, FRAME_HEADER_BYTES - filled));
      if (filled === FRAME_HEADER_BYTES) break;
    }
    return header.readUInt32BE(0);
  }

  /** The first `bytes` bytes, removed: a view when one chunk holds them, else one copy. */
  private take(bytes: number): Buffer {
    this.buffered -= bytes;
    const first = this.chunks[0];
    if (first.length >= bytes) {
      if (first.length === bytes) this.chunks.shift();
      else this.chunks[0] = first.subarray(bytes);
      return first.subarray(0, bytes);
    }
    const out = Buffer.allocUnsafe(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.chunks[0];
      const wanted = bytes - filled;
      if (chunk.length <= wanted) {
        chunk.copy(out, filled);
        filled += chunk.length;
        this.chunks.shift();
      } else {
        chunk.copy(out, filled, 0, wanted);
        this.chunks[0] = chunk.subarray(wanted);
        filled += wanted;
      }
    }
    return out;
  }

  private fail() {
    this.failed = true;
    this.chunks = [];
    this.buffered = 0;
  }
}
