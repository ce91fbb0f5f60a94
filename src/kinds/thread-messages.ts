// What crosses between the main thread and a pool thread of the thread kind.
// Plain, structured-clonable data; bodies are ArrayBuffers that are transferred
// (moved, not copied) in both directions.
import type { AppOrigin, AppShape } from '../app/app-shape.js';

/** Asks a thread to load the app (if it has not yet) and say what shape it is. */
export interface ProbeTask {
  type: 'probe';
}

/** One HTTP request, already parsed by the main thread, with its whole body. */
export interface RequestTask {
  type: 'request';
  method: string;
  /** The request target as received: path and query. */
  url: string;
  /** Node's rawHeaders: name, value, name, value …, duplicates and case kept. */
  rawHeaders: string[];
  /** null when the request had no body. */
  body: ArrayBuffer | null;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** Came over TLS, or a trusted proxy says the client used HTTPS. */
  secure: boolean;
}

export type ThreadTask = ProbeTask | RequestTask;

export interface ProbeResult {
  shape: AppShape;
  origin: AppOrigin;
}

/** The app's whole response. */
export interface ThreadResponse {
  status: number;
  statusText: string;
  /** Flat name, value, name, value …, as writeHead takes them; repeated names (set-cookie) stay separate. */
  headers: string[];
  body: ArrayBuffer | null;
}
