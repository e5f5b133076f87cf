// The part of a pino logger the VMware front end uses; the agent passes a child logger, tests nothing.

export interface VmwareLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const silentLog: VmwareLog = { debug() {}, info() {}, warn() {} };
