// `ms` of CPU work (hashing), the same inline or in a dirty process.
import { createHash } from 'node:crypto';

export function work(ms) {
  const until = performance.now() + ms;
  let digest = Buffer.alloc(32);
  while (performance.now() < until) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex').slice(0, 16);
}
