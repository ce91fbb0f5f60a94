// The arbiter's node flags (`node --max-old-space-size=512 corral …`) apply to
// the processes it starts, workers and dirty processes, as node:cluster's
// workers get them — except the inspector's: every process would ask for the
// arbiter's port.
const INSPECTOR_FLAG = /^--(inspect|debug)(-brk|-port|-wait|-publish-uid)?(=|$)/;

export const inheritedNodeFlags = (): string[] => process.execArgv.filter((flag) => !INSPECTOR_FLAG.test(flag));
