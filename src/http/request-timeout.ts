// --request-timeout: a request its app has not answered within the limit is
// answered 503 (or, its response begun, its connection closed), logged with
// its method and path, and counted; the worker serves on. The app's handler
// cannot be stopped: whatever it writes later goes nowhere.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeHandler } from '../app/recognise-app.js';
import type { RequestCounters } from '../kinds/contract.js';
import type { Logger } from '../log/logger.js';
import { answerFailure } from './answer-failure.js';
import { requestLine } from './request-line.js';

const ignore = () => {};

export function withRequestTimeout(handler: NodeHandler, seconds: number, counters: RequestCounters, logger: Logger): NodeHandler {
  if (!(seconds > 0)) return handler;
  const ms = seconds * 1000;
  const expire = (req: IncomingMessage, res: ServerResponse) => {
    if (res.writableFinished || res.destroyed) return;
    counters.timedOut = (counters.timedOut ?? 0) + 1;
    const begun = res.headersSent;
    logger.warning(`Request timed out after ${seconds} s: ${requestLine(req)} (${begun ? 'response begun: connection closed' : 'answered 503'})`);
    // The app may still write or end: past this point that is no error of the worker's.
    res.on('error', ignore);
    answerFailure(res, 503, 'Service Unavailable: the request timed out\n');
  };
  return (req, res) => {
    const timer = setTimeout(expire, ms, req, res);
    res.once('close', () => clearTimeout(timer));
    return handler(req, res);
  };
}
