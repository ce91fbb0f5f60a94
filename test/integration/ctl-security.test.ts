// The control socket against another local user (root only: a real second
// user is created for each test and removed after, even on failure): a
// fallback directory they made first, a symlink in place of the directory or
// the socket, a socket they own, and a hostile server's escape sequences.
// Every test has a temporary TMPDIR of its own, so the real /tmp is not used.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameDecoder, encodeFrame } from '../../src/ipc/frame-codec.js';
import { CLI, REPO_ROOT, withCorral } from '../helpers/corral-process.js';
import { request } from '../helpers/http.js';

const isRoot = process.getuid?.() === 0;
const app = join(REPO_ROOT, 'examples/test.js');
/** Any byte a terminal may act on: C0 but newline, DEL, and C1 (as UTF-8 U+0080-U+009F). */
const CONTROL_BYTES = /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f]/;

interface OtherUser {
  name: string;
  uid: number;
  gid: number;
  /** Runs a command as this user. */
  run(command: string[]): void;
}

/** A fresh local user for the body's length, removed (with its home) afterwards whatever happens. */
async function withOtherUser(body: (user: OtherUser) => Promise<void>): Promise<void> {
  const name = `crl${process.pid}${Math.random().toString(36).slice(2, 7)}`;
  const created = spawnSync('useradd', ['--create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
  assert.is(created.status, 0, `useradd ${name}: ${created.stderr}`);
  try {
    const id = (flag: string) => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
    const user: OtherUser = {
      name,
      uid: id('-u'),
      gid: id('-g'),
      run(command) {
        const ran = spawnSync('runuser', ['-u', name, '--', ...command], { encoding: 'utf8' });
        assert.is(ran.status, 0, `as ${name}: ${command.join(' ')}: ${ran.stderr}`);
      },
    };
    await body(user);
  } finally {
    spawnSync('userdel', ['-r', name], { encoding: 'utf8' });
  }
}

/** A TMPDIR like /tmp (sticky, writable by all) for the body's length. */
async function withTmpdir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'corral-sec-'));
  chmodSync(dir, 0o1777);
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** corral's environment without XDG_RUNTIME_DIR: the control directory falls back to $TMPDIR/corral-UID. */
const fallbackEnv = (dir: string) => ({ TMPDIR: dir, XDG_RUNTIME_DIR: '' });

/** Runs `corral ctl` without blocking this process, whose own servers must answer meanwhile. */
function ctl(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'ctl', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A control server of the test's own at `path` that answers every request with `replies`. */
async function withFakeServer(path: string, replies: unknown[], body: () => Promise<void>): Promise<void> {
  const server = net.createServer((socket) => {
    const decoder = new FrameDecoder();
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      if (decoder.push(chunk).messages.length === 0) return;
      for (const reply of replies) socket.write(encodeFrame(reply));
      socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    await body();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

if (isRoot) {
  test("a fallback directory another user made is refused, with its owner and mode; the server serves on without a control socket, and ctl refuses it too", async () => {
    await withTmpdir(async (dir) =>
      withOtherUser(async (other) => {
        const planted = join(dir, 'corral-0');
        other.run(['mkdir', '-m', '755', planted]);
        const env = fallbackEnv(dir);
        await withCorral(['-w', '1', '-b', '127.0.0.1:0', '-n', 'victim', app], async (corral) => {
          const [url] = await corral.ready();
          const { match } = await corral.waitForLine(/\[ERROR\] No control socket \(corral ctl cannot reach this server\): (.*)$/);
          const message = match[1];
          assert.ok(message.includes(planted), message);
          assert.match(message, new RegExp(`owned by uid ${other.uid} \\(${other.name}\\)`));
          assert.match(message, /mode 0755/);
          assert.match(message, /XDG_RUNTIME_DIR/);
          assert.match(message, /--control-socket/);
          assert.equal(readdirSync(planted), [], 'nothing was put in the other user\'s directory');
          assert.is((await request(url)).status, 200, 'the server serves on');

          const refused = await ctl(['status', '--name', 'victim'], env);
          assert.is(refused.status, 1, refused.stdout);
          assert.ok(refused.stderr.includes(planted), refused.stderr);
          assert.match(refused.stderr, new RegExp(`owned by uid ${other.uid} \\(${other.name}\\)`));
        }, { env });
      }),
    );
  });

  test('a fallback directory open to others, even our own, is refused', async () => {
    await withTmpdir(async (dir) => {
      const loose = join(dir, 'corral-0');
      mkdirSync(loose, { mode: 0o777 });
      chmodSync(loose, 0o777);
      await withCorral(['-w', '1', '-b', '127.0.0.1:0', app], async (corral) => {
        await corral.ready();
        const { match } = await corral.waitForLine(/\[ERROR\] No control socket .*$/);
        assert.ok(match[0].includes(loose), match[0]);
        assert.match(match[0], /mode 0777/);
        assert.equal(readdirSync(loose), []);
      }, { env: fallbackEnv(dir) });
    });
  });

  test('a symlink planted as the fallback directory is not followed: nothing lands where it points', async () => {
    await withTmpdir(async (dir) =>
      withOtherUser(async (other) => {
        // A directory of root's the other user would like a socket (and a chmod) in.
        const target = join(dir, 'roots');
        mkdirSync(target, { mode: 0o755 });
        const victim = join(target, 'victim.conf');
        writeFileSync(victim, 'secret\n', { mode: 0o644 });
        other.run(['ln', '-s', target, join(dir, 'corral-0')]);
        await withCorral(['-w', '1', '-b', '127.0.0.1:0', '-n', 'victim', app], async (corral) => {
          await corral.ready();
          const { match } = await corral.waitForLine(/\[ERROR\] No control socket .*$/);
          assert.match(match[0], /is a symbolic link/);
          assert.equal(readdirSync(target), ['victim.conf'], 'no socket in the directory the link points at');
          assert.is(statSync(victim).mode & 0o777, 0o644);
        }, { env: fallbackEnv(dir) });
      }),
    );
  });

  test('--control-socket PATH: a symlink at PATH is not followed (its target keeps its mode); a directory others may write into is refused', async () => {
    await withTmpdir(async (dir) => {
      const victim = join(dir, 'victim.conf');
      writeFileSync(victim, 'secret\n', { mode: 0o644 });
      const link = join(dir, 'ctl.sock');
      symlinkSync(victim, link);
      await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--control-socket', link, '--control-socket-mode', '666', app], async (corral) => {
        await corral.ready();
        await corral.waitForLine(/\[ERROR\] No control socket .*ctl\.sock exists and is not a socket/);
      });
      assert.is(statSync(victim).mode & 0o777, 0o644, 'the file the link points at keeps its mode');
      assert.ok(lstatSync(link).isSymbolicLink(), 'the link is left as it was');

      // Writable by all and not sticky: anyone could swap the socket for their own.
      const open = join(dir, 'open');
      mkdirSync(open);
      chmodSync(open, 0o777);
      await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--control-socket', join(open, 'ctl.sock'), app], async (corral) => {
        await corral.ready();
        const { match } = await corral.waitForLine(/\[ERROR\] No control socket .*$/);
        assert.ok(match[0].includes(open), match[0]);
        assert.match(match[0], /writable by others/);
        assert.not.ok(existsSync(join(open, 'ctl.sock')));
      });
    });
  });

  test("--control-socket PATH where another user's socket is (in a sticky directory): it is left alone, not cleared as stale", async () => {
    await withTmpdir(async (dir) =>
      withOtherUser(async (other) => {
        const path = join(dir, 'ctl.sock');
        // A socket nobody listens on any more, as a crashed server leaves it, but theirs.
        other.run(['python3', '-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`]);
        await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--control-socket', path, app], async (corral) => {
          await corral.ready();
          const { match } = await corral.waitForLine(/\[ERROR\] No control socket .*$/);
          assert.match(match[0], new RegExp(`is a socket owned by uid ${other.uid} \\(${other.name}\\), left alone`));
          assert.is(lstatSync(path).uid, other.uid, 'their socket is still there');
        });
      }),
    );
  });

  test('--control-socket-mode 666: the socket has its mode from the start, in a directory of our own', async () => {
    await withTmpdir(async (dir) => {
      const mine = join(dir, 'mine');
      mkdirSync(mine, { mode: 0o755 });
      const path = join(mine, 'ctl.sock');
      await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--control-socket', path, '--control-socket-mode', '666', app], async (corral) => {
        await corral.ready();
        await corral.waitForLine(/\[INFO\] Control socket: /);
        assert.ok(lstatSync(path).isSocket());
        assert.is(lstatSync(path).mode & 0o777, 0o666);
        assert.equal(readdirSync(mine), ['ctl.sock'], 'no temporary file is left beside it');
        const status = await ctl(['status', '--socket', path, '--json'], {});
        assert.is(status.status, 0, status.stderr);
        assert.is(JSON.parse(status.stdout).arbiter.pid, corral.pid);
        const noInspector = await ctl(['inspector', '--socket', path], {});
        assert.is(noInspector.status, 1);
        assert.match(noInspector.stderr, /this server has no inspector: start it with --inspector HOST:PORT/);
      });
    });
  });

  test('no chmod goes through the control socket\'s path: its mode is set where nobody else can reach it (traced with strace)', async () => {
    await withTmpdir(async (dir) => {
      const path = join(dir, 'ctl.sock');
      const trace = join(dir, 'chmod.trace');
      const launcher = (command: string[]): [string, string[]] => ['strace', ['-f', '-qq', '-e', 'trace=/chmod', '-o', trace, ...command]];
      await withCorral(['-w', '1', '-b', '127.0.0.1:0', '--control-socket', path, '--control-socket-mode', '666', app], async (corral) => {
        await corral.ready(30_000);
        await corral.waitForLine(/\[INFO\] Control socket: /);
        assert.is(lstatSync(path).mode & 0o777, 0o666);
      }, { launcher });
      const calls = readFileSync(trace, 'utf8').split('\n').filter((line) => /chmod/.test(line));
      assert.ok(calls.some((line) => /\/\.c[^/]+\/s", 0666\)/.test(line)), `the mode is set in the private directory:\n${calls.join('\n')}`);
      assert.not.ok(calls.some((line) => line.includes(`"${path}"`)), `a chmod named the socket's path:\n${calls.join('\n')}`);
    });
  });

  test('ctl refuses a socket another user owns, or a symlink, before saying anything to it', async () => {
    await withTmpdir(async (dir) =>
      withOtherUser(async (other) => {
        const theirs = join(dir, 'theirs');
        mkdirSync(theirs, { mode: 0o755 });
        const path = join(theirs, 'evil.sock');
        let asked = 0;
        const server = net.createServer((socket) => {
          asked += 1;
          socket.on('error', () => {});
          socket.on('data', () => socket.end(encodeFrame({ v: 1, ok: true, result: {} })));
        });
        await new Promise<void>((resolve) => server.listen(path, resolve));
        try {
          chownSync(path, other.uid, other.gid);
          chownSync(theirs, other.uid, other.gid);
          const refused = await ctl(['stop', '--socket', path], {});
          assert.is(refused.status, 1, refused.stdout);
          assert.is(refused.stdout, '', 'no "Stopping"');
          assert.ok(refused.stderr.includes(path), refused.stderr);
          assert.match(refused.stderr, new RegExp(`owned by uid ${other.uid} \\(${other.name}\\)`));
          const link = join(dir, 'link.sock');
          symlinkSync(path, link);
          const viaLink = await ctl(['stop', '--socket', link], {});
          assert.is(viaLink.status, 1, viaLink.stdout);
          assert.match(viaLink.stderr, /is a symbolic link/);
          // Our own socket, but in a directory anyone may swap it in.
          const open = join(dir, 'open');
          mkdirSync(open);
          chmodSync(open, 0o777);
          const ours = net.createServer((socket) => {
            asked += 1;
            socket.destroy();
          });
          await new Promise<void>((resolve) => ours.listen(join(open, 'ours.sock'), resolve));
          try {
            const swappable = await ctl(['status', '--socket', join(open, 'ours.sock')], {});
            assert.is(swappable.status, 1, swappable.stdout);
            assert.match(swappable.stderr, /open is writable by others and not sticky \(mode 0777\)/);
          } finally {
            await new Promise((resolve) => ours.close(resolve));
          }
          assert.is(asked, 0, 'ctl never connected');
        } finally {
          await new Promise((resolve) => server.close(resolve));
        }
      }),
    );
  });
}

test('a hostile server: ctl prints none of the control bytes it sends, in text or JSON, and a reply of the wrong shape is an error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-sec-'));
  try {
    const path = join(dir, 'hostile.sock');
    const evil = '\x1b]0;pwned\x07\x1b[2J\x1b[31mred\u009b31m\r\x00\x7f\nforged line';
    const status = {
      arbiter: { pid: 1, name: evil, state: evil, uptimeSeconds: 1, generation: 1, kind: evil, workers: 1, listeners: [evil] },
      workers: [{ id: evil, pid: 2, kind: evil, state: evil, generation: 1, ageSeconds: 1, served: 0, inFlight: 0, lagMs: 0, rssBytes: 0, ready: true, retiring: false }],
    };
    await withFakeServer(path, [{ v: 1, ok: true, result: status }], async () => {
      for (const args of [['status'], ['status', '--json']]) {
        const result = await ctl([...args, '--socket', path], {});
        assert.is(result.status, 0, result.stderr);
        assert.not.match(result.stdout, CONTROL_BYTES, JSON.stringify(result.stdout));
        assert.not.match(result.stdout, /^forged line/m, 'a newline from the server starts no line of its own');
        assert.match(result.stdout, /red/);
      }
    });
    await withFakeServer(path, [{ v: 1, ok: false, error: { code: evil, message: evil } }], async () => {
      const result = await ctl(['stop', '--socket', path], {});
      assert.is(result.status, 1);
      assert.not.match(result.stderr, CONTROL_BYTES, JSON.stringify(result.stderr));
      assert.match(result.stderr, /pwned/);
    });
    await withFakeServer(path, [{ v: 1, event: { at: evil, type: 'exit', id: evil, pid: 3, cause: evil, exitCode: null, signal: evil } }], async () => {
      const result = await ctl(['events', '--socket', path], {});
      assert.is(result.status, 0, result.stderr);
      assert.not.match(result.stdout, CONTROL_BYTES, JSON.stringify(result.stdout));
      assert.match(result.stdout, /exited/);
    });
    // A reply of the wrong shape: a clear error, no stack trace.
    await withFakeServer(path, [{ v: 1, ok: true, result: { arbiter: { name: 'x' }, workers: [{ lagMs: 'slow' }] } }], async () => {
      const result = await ctl(['status', '--socket', path], {});
      assert.is(result.status, 1, result.stdout);
      assert.match(result.stderr, /^Error: the server's reply is not what this corral ctl understands/);
      assert.not.match(result.stderr, /\n\s+at /, 'no stack trace');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
