// Whether a pid names a running process: signal 0 checks without signalling;
// EPERM means it runs as another user, which is still alive.
export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};
