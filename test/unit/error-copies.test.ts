// corral's errors stay recognisable when its modules are loaded twice in one
// process (the CLI's bundled copy, and the package the app imports).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CorralError, DirtyError, UsageError } from '../../src/errors.js';

type ErrorsModule = typeof import('../../src/errors.js');
// A second instance of the same module: its classes are other objects, as the bundle's are.
const copy = (await import(new URL('../../src/errors.js?second-copy', import.meta.url).href)) as ErrorsModule;

test('the copy is another module (the test would prove nothing otherwise)', () => {
  assert.is.not(copy.CorralError, CorralError);
});

test("an error from the other copy is instanceof this copy's classes, by its kind", () => {
  const dirty = new copy.DirtyError('CORRAL_ERR_DIRTY_TIMEOUT', 'late');
  assert.ok(dirty instanceof CorralError);
  assert.ok(dirty instanceof DirtyError);
  assert.not.ok(dirty instanceof UsageError);
  assert.ok(dirty instanceof Error);
  const usage = new UsageError('bad flag');
  assert.ok(usage instanceof copy.CorralError);
  assert.ok(usage instanceof copy.UsageError);
  assert.not.ok(usage instanceof copy.DirtyError);
});

test('other errors are not taken for corral errors', () => {
  assert.not.ok(new Error('x') instanceof CorralError);
  const lookalike = Object.assign(new Error('x'), { name: 'DirtyError', code: 'CORRAL_ERR_DIRTY_TIMEOUT' });
  assert.not.ok(lookalike instanceof DirtyError);
  assert.not.ok((null as unknown) instanceof CorralError);
  assert.not.ok(('CorralError' as unknown) instanceof CorralError);
});

test.run();
