// A real headless Chromium for the inspector's tests: the one shipped inside
// the @sparticuz/chromium package, so no download is needed. No browser is a
// failure, not a skip.
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser } from 'puppeteer-core';

export async function launchBrowser(): Promise<Browser> {
  let executablePath: string;
  try {
    executablePath = await chromium.executablePath();
  } catch (error) {
    throw new Error(`No headless Chromium: @sparticuz/chromium could not unpack its browser (${(error as Error).message}). Run npm ci.`);
  }
  return puppeteer.launch({ executablePath, args: chromium.args, headless: true });
}

/** Polls `probe` until `ok` holds, or fails with what was last seen. */
export async function waitFor<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
