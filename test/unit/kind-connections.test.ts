// The arbiter learns how a built-in kind takes its connections without loading
// it; what it is told must be what the kind itself declares.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectionsOf, kindConnections, kindNames, loadKind } from '../../src/kinds/registry.js';

test('every built-in kind: kindConnections says what the loaded kind declares', async () => {
  for (const name of kindNames()) assert.is(await kindConnections(name), connectionsOf(await loadKind(name)), name);
});

test('an unknown kind is refused as loadKind refuses it', async () => {
  try {
    await kindConnections('no-such-kind');
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.is((error as { code?: string }).code, 'CORRAL_ERR_UNKNOWN_KIND');
  }
});

test.run();
