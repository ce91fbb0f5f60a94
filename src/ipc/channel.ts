// A typed, framed message channel over one end of a worker's pipe.
import type { Duplex } from 'node:stream';
import type { ProtocolError } from '../errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, encodeFrame } from './frame-codec.js';
import { type ArbiterToWorker, type WorkerToArbiter, validateMessage } from './protocol.js';

export interface ChannelHandlers<In> {
  message(message: In): void;
  /** The peer broke the protocol; nothing more is read from this channel. */
  protocolError(error: ProtocolError): void;
  close(): void;
}

export interface Channel<Out> {
  send(message: Out): void;
  close(): void;
}

/**
 * Frames on `stream` in both directions: each message read is checked by `validate` (which throws a ProtocolError
 * for one it refuses), and the first bad frame or message ends the reading.
 */
export function openChannel<In, Out>(
  stream: Duplex,
  validate: (raw: unknown) => In,
  handlers: ChannelHandlers<In>,
  maxFrameBytes: number,
): Channel<Out> {
  const decoder = new FrameDecoder(maxFrameBytes);
  let broken = false;
  const breakWith = (error: ProtocolError) => {
    broken = true;
    handlers.protocolError(error);
  };
  const onData = (chunk: Buffer) => {
    if (broken) return;
    const { messages, error } = decoder.push(chunk);
    for (const raw of messages) {
      let message: In;
      try {
        message = validate(raw);
      } catch (invalid) {
        return breakWith(invalid as ProtocolError);
      }
      handlers.message(message);
    }
    if (error) breakWith(error);
  };
  stream.on('data', onData);
  stream.once('close', () => handlers.close());
  // A peer that vanished mid-write surfaces as EPIPE/ECONNRESET; `close` follows and says it all.
  stream.on('error', () => {});
  return {
    send(message: Out) {
      if (!stream.destroyed && stream.writable) stream.write(encodeFrame(message));
    },
    close() {
      stream.off('data', onData);
      stream.destroy();
    },
  };
}

/** The arbiter's end: reads what a worker says, sends it commands. */
export const openArbiterSide = (
  stream: Duplex,
  handlers: ChannelHandlers<WorkerToArbiter>,
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): Channel<ArbiterToWorker> => openChannel(stream, (raw) => validateMessage('toArbiter', raw), handlers, maxFrameBytes);

/** A worker's end: reads the arbiter's commands, reports back. */
export const openWorkerSide = (
  stream: Duplex,
  handlers: ChannelHandlers<ArbiterToWorker>,
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
): Channel<WorkerToArbiter> => openChannel(stream, (raw) => validateMessage('toWorker', raw), handlers, maxFrameBytes);
