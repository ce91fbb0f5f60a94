// Shared accept: every worker's loop is woken for a new connection, and the first
// to run accepts every connection queued by then, so a burst (a client opening its
// pool) piles onto one or two workers and keep-alive keeps it there. libuv's
// single-accept mode takes one connection per wake-up and yields before the next,
// which lets the other workers take theirs. It is read when the first server
// listens, so it is set before the kind starts; a value the operator set stands.
// libuv 1.45 (Node 20.3) dropped the mode: it accepts one connection per wake-up
// by itself, with no yield, and ignores the variable.

/** Turns on libuv's single-accept mode for this process's listening servers. */
export function spreadAccepts(env: NodeJS.ProcessEnv = process.env): void {
  env.UV_TCP_SINGLE_ACCEPT ??= '1';
}
