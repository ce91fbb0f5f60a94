// What an app (or a module it imports) threw while loading, told so that the
// user can go to the line: the error's name and message, where it happened
// (node's `file:line` and source excerpt when it gives one), and the stack's
// frames without node's loader and corral's own, which say nothing about the app.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateSyntaxError } from './locate-syntax-error.js';

/** corral's compiled code (its dist/ directory): frames in it are the loader's, not the app's. */
const CORRAL_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

const isFrame = (line: string) => /^\s*at /.test(line);

function isOwnFrame(line: string): boolean {
  if (/\bnode:internal\//.test(line)) return true;
  const path = /(?:file:\/\/)?(\/[^()\s]*?):\d+:\d+\)?$/.exec(line)?.[1];
  return path !== undefined && path.startsWith(CORRAL_ROOT + '/');
}

/** The app's frames of a stack, indented as node prints them. */
export function appFrames(stack: string): string[] {
  return stack
    .split('\n')
    .filter((line) => isFrame(line) && !isOwnFrame(line))
    .map((line) => `    ${line.trim()}`);
}

/**
 * node puts a compile error's place before the stack, as `file:line`, the
 * source line and a caret (a CommonJS module, a missing named export); this
 * takes it out of the stack, or returns undefined.
 */
function placeInStack(stack: string, header: string): string[] | undefined {
  const at = stack.indexOf(header);
  if (at <= 0) return undefined;
  const lines = stack.slice(0, at).replace(/\n+$/, '').split('\n');
  return /:\d+$/.test(lines[0]) ? lines : undefined;
}

/** The place found for an error: `file:line` then the source line and caret. */
const showPlace = (place: string[]) => [`  at ${place[0]}`, ...place.slice(1).map((line) => `  ${line}`)];

/**
 * `error` as several lines: `Name: message`, its place, then the app's frames.
 * `file` is the module that was imported: node 20 gives no place for a syntax
 * error in an ES module, so one is looked for from there.
 */
export function describeImportFailure(error: unknown, file?: string): string {
  if (!(error instanceof Error)) return `${String(error)} (thrown as a ${error === null ? 'null' : typeof error}, not an Error, so there is no stack)`;
  // node's own errors carry a code, shown as node shows it: `Error [ERR_MODULE_NOT_FOUND]: …`.
  const code = (error as { code?: unknown }).code;
  const header = `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`;
  const stack = typeof error.stack === 'string' ? error.stack : header;
  let place = placeInStack(stack, header);
  const frames = appFrames(stack.slice(Math.max(0, stack.indexOf(header))));
  if (!place && frames.length === 0 && error instanceof SyntaxError && file) place = locateSyntaxError(file);
  const lines = [header, ...(place ? showPlace(place) : []), ...frames];
  // node's coded errors say what they are about (a module not found names its importer); others get a word on the missing stack.
  if (!place && frames.length === 0 && typeof code !== 'string') lines.push('  (no stack frame in the app: the error came from node or a module outside it)');
  return lines.join('\n');
}
