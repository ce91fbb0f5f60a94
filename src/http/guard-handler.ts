// An app that throws (or rejects) answers 500 and is logged; the worker stays up.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeHandler } from '../app/recognise-app.js';
import type { Logger } from '../log/logger.js';
import { answerFailure } from './answer-failure.js';

export function guardHandler(handler: NodeHandler, logger: Logger): NodeHandler {
  const fail = (req: IncomingMessage, res: ServerResponse, error: unknown) => {
    logger.error(`Error handling request ${req.method} ${req.url}: ${error instanceof Error ? error.stack : String(error)}`);
    answerFailure(res, 500, 'Internal Server Error\n');
  };
  return (req, res) => {
    try {
      const result = handler(req, res);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(undefined, (error: unknown) => fail(req, res, error));
      }
    } catch (error) {
      fail(req, res, error);
    }
  };
}
