// What an operator may do from the inspector page, when --inspector-actions
// allows it: scale, a rolling reload, stop one worker (a replacement boots
// first). Only a POST with a JSON body changes anything, and only with the
// session token the page got from /session in a header: a page of another
// site can neither read that token nor send a custom header without a CORS
// preflight, which the inspector never grants. Each action is logged with who
// asked (by: inspector).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';

export const CSRF_HEADER = 'x-corral-session';
/** Sessions remembered: a page each; the oldest are forgotten first. */
const SESSIONS_KEPT = 64;
const MAX_BODY_BYTES = 1024;
const BY = 'inspector';

/** What the server can do, as the rest of corral offers it. */
export interface ActionTarget {
  scale(workers: number): void;
  reload(options: { by: string }): Promise<void>;
  /** Replaces one worker (its successor boots, then it drains); false when there is no such worker serving. */
  replaceWorker(id: string, reason: string): boolean;
  workers(): number;
}

export interface ActionOutcome {
  status: number;
  message: string;
}

export interface InspectorActions {
  /** A new session: its token, and whether actions are on. */
  session(): { actions: boolean; session: string };
  handle(req: http.IncomingMessage): Promise<ActionOutcome>;
  /** The server is up: actions can reach it. */
  attach(target: ActionTarget): void;
  /** Turns actions on or off (a reload changed --inspector-actions); pages opened before keep their session. */
  allow(enabled: boolean): void;
}

function sameSecret(given: string, known: string): boolean {
  return given.length === known.length && timingSafeEqual(Buffer.from(given), Buffer.from(known));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY_BYTES) {
        reject(new Error(`a body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

export function createInspectorActions(enabled: boolean, logger: Logger, note: (text: string) => void): InspectorActions {
  const sessions: string[] = [];
  let target: ActionTarget | undefined;
  const refuse = (status: number, message: string): ActionOutcome => ({ status, message });

  const act = async (request: Record<string, unknown>): Promise<ActionOutcome> => {
    if (!target) return refuse(503, 'Not ready: the server is still starting.');
    const done = (message: string): ActionOutcome => {
      logger.info(`Inspector: ${message} (by: ${BY})`);
      note(`${message} (by: ${BY})`);
      return { status: 200, message };
    };
    switch (request.action) {
      case 'scale': {
        const workers = request.workers;
        if (typeof workers !== 'number' || !Number.isInteger(workers)) return refuse(400, 'Bad request: scale wants a whole number of workers.');
        const from = target.workers();
        try {
          target.scale(workers);
        } catch (error) {
          return refuse(400, `Refused: ${describeError(error)}`);
        }
        return done(`scale from ${from} to ${workers} worker(s)`);
      }
      case 'reload':
        // Answered at once: the page follows the reload live.
        target.reload({ by: BY }).catch((error: unknown) => logger.error(`Inspector: the reload failed: ${describeError(error)}`));
        return done('rolling reload');
      case 'stop-worker': {
        const id = request.id;
        if (typeof id !== 'string') return refuse(400, 'Bad request: stop-worker wants the id of a worker.');
        if (!target.replaceWorker(id, `was stopped from the inspector (by: ${BY})`)) return refuse(409, `Refused: ${id} is not a worker serving now.`);
        return done(`stop ${id} (a replacement boots first)`);
      }
      default:
        return refuse(400, 'Bad request: the action is one of scale, reload, stop-worker.');
    }
  };

  return {
    session() {
      const session = randomBytes(16).toString('hex');
      sessions.push(session);
      if (sessions.length > SESSIONS_KEPT) sessions.splice(0, sessions.length - SESSIONS_KEPT);
      return { actions: enabled, session };
    },
    async handle(req) {
      if (req.method !== 'POST') return refuse(405, 'Method not allowed: actions are POSTs (nothing changes on a GET).');
      if (!enabled) return refuse(403, 'Forbidden: actions from the inspector are off; start corral with --inspector-actions to allow them.');
      const given = req.headers[CSRF_HEADER];
      if (typeof given !== 'string' || !sessions.some((session) => sameSecret(given, session))) {
        return refuse(403, `Forbidden: an action needs the page's session token in the ${CSRF_HEADER} header; reload the page.`);
      }
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return refuse(415, 'Unsupported media type: an action is a JSON body.');
      let request: unknown;
      try {
        request = JSON.parse(await readBody(req));
      } catch (error) {
        return refuse(400, `Bad request: ${describeError(error)}`);
      }
      if (typeof request !== 'object' || request === null) return refuse(400, 'Bad request: an action is a JSON object.');
      return act(request as Record<string, unknown>);
    },
    attach(server) {
      target = server;
    },
    allow(allowed) {
      enabled = allowed;
    },
  };
}
