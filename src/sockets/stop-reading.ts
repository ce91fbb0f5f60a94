// A socket this process reads no more from: libuv stops reading its descriptor,
// so what the client sends next stays in the kernel for whoever the socket is
// handed to. node has no public call for it (pause() only stops the stream's
// flow, and the handle goes on reading into its buffer).

/** Stops libuv reading `socket`'s descriptor; a socket with no handle any more is left as it is. */
export function stopReading(socket: object): void {
  const handle = (socket as { _handle?: { readStop(): number; reading: boolean } | null })._handle;
  if (!handle) return;
  handle.reading = false;
  handle.readStop();
}
