// The fields HTTP/2 forbids in a message, head or trailers (RFC 9113 §8.2.2):
// connection-specific, meaningful to one HTTP/1.1 hop only. node:http2 throws
// on any of them (TE is allowed there only as `trailers`, and means nothing in
// an answer), so an answer that carries one, copied from an HTTP/1.1 upstream
// or set by an app written for HTTP/1.1, goes out without it.
export const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings']);

const patched = new WeakSet<object>();

interface TrailerSetting {
  setTrailer(name: string, value: unknown): void;
}

/**
 * node's compatibility response leaves a connection-specific field out of the head (setHeader), but takes it
 * as a trailer and only throws once the stream asks for its trailers, in an event handler: an uncaught error
 * that took the worker down. Such trailers are left out as the head's are.
 */
export function dropConnectionSpecificTrailers(prototype: TrailerSetting): void {
  if (patched.has(prototype)) return;
  patched.add(prototype);
  const setTrailer = prototype.setTrailer;
  prototype.setTrailer = function (this: TrailerSetting, name: string, value: unknown) {
    if (typeof name === 'string' && CONNECTION_SPECIFIC.has(name.trim().toLowerCase())) return;
    setTrailer.call(this, name, value);
  };
}
