// Where the arbiter's listening sockets come from, in order: an arbiter being
// upgraded (USR2), systemd (LISTEN_FDS), or binding every -b itself.
import type { Settings } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { type BoundListener, adoptAll, bindAll, misdirectedActivation, socketActivationFds } from '../sockets/listeners.js';
import type { InheritedSockets } from './upgrade.js';

export async function acquireListeners(settings: Settings, inherited: InheritedSockets | undefined, logger: Logger): Promise<BoundListener[]> {
  if (inherited) {
    logger.info(`Inherited ${inherited.listeners.length} socket(s) from arbiter ${inherited.parentPid} (upgrade)`);
    return adoptAll(inherited.listeners);
  }
  const activated = socketActivationFds(process.env);
  if (activated.length > 0) {
    // Socket activation replaces -b; the variables are for us only, not for the app.
    delete process.env.LISTEN_FDS;
    delete process.env.LISTEN_PID;
    delete process.env.LISTEN_FDNAMES;
    logger.info(`Using ${activated.length} socket(s) passed by systemd (LISTEN_FDS)`);
    return adoptAll(activated.map((fd) => ({ fd })));
  }
  const misdirected = misdirectedActivation(process.env);
  if (misdirected) logger.warning(misdirected);
  return bindAll(settings.bind);
}
