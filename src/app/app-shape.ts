// The shapes an app can have once recognised. Every kind serves one of these,
// never the raw export, so no kind repeats the detection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { EarlyHints } from '../http/early-hints.js';

export type { EarlyHints, EarlyHintValue } from '../http/early-hints.js';

/** node's own request listener: express, connect, polka's handler, koa's callback(), fastify's routing. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Who sent the request: the TCP peer, or the client a trusted proxy named (--forwarded-allow-ips, --proxy-protocol). */
export interface FetchClient {
  address: string | undefined;
  port: number | undefined;
  /** The scheme the client used: 'https' over TLS, or when a trusted proxy says so. Also the request URL's. */
  scheme: 'http' | 'https';
}

/**
 * What a fetch-style app receives beside the Request. Kinds that serve on
 * node's http pass `incoming`/`outgoing` (the names @hono/node-server uses, so
 * helpers such as hono's getConnInfo work); kinds that cannot (threads) pass
 * less. Every kind passes `client`.
 */
export interface FetchContext {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
  client: FetchClient;
  /**
   * Sends a 103 Early Hints ahead of the Response the app is making, e.g.
   * `context.earlyHints({ link: '</style.css>; rel=preload; as=style' })`.
   * True once on its way; false when not sent (an HTTP/1.0 client, nothing to
   * send, the client gone). Throws InvalidEarlyHints (code
   * CORRAL_ERR_INVALID_EARLY_HINTS) for a field it refuses, and
   * EarlyHintsTooLate once the Response is being sent. Every built-in kind
   * passes it; a custom kind, or a test calling the handler itself, may not.
   */
  earlyHints?(hints: EarlyHints): boolean;
  [key: string]: unknown;
}

/** The web-standard handler: hono, itty-router, Bun- and Deno-style `{ fetch }` exports. */
export type FetchHandler = (request: Request, context: FetchContext) => Response | Promise<Response>;

/** Takes an HTTP Upgrade request (WebSocket) and its socket, as node's server 'upgrade' event gives them: e.g. ws's handleUpgrade. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => unknown;

/** How the app was told apart, for messages and logs. */
export type AppOrigin = 'node handler' | 'koa app' | 'fastify instance' | '{ fetch } object' | '(Request) => Response function';

interface Recognised {
  name: string;
  origin: AppOrigin;
  /** Present when the app takes upgrades (see upgradeHandlerOf); without it an Upgrade request is an ordinary request. */
  upgrade?: UpgradeHandler;
}

export type RecognisedApp = ({ shape: 'node'; handler: NodeHandler } | { shape: 'fetch'; fetch: FetchHandler }) & Recognised;

export type AppShape = RecognisedApp['shape'];
