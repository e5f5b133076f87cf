// The rolling reboot, host side (docs/rollout.md): loaded by the CLI's rollout verb only when used
// (it brings the Kubernetes client with it).
export { formatDuration, parseDuration } from '../../kube/duration.js';
export { Cluster, type ClusterSnapshot } from './cluster.js';
export { type ClusterConnection, connectCluster } from './connect.js';
export { KubeError, RolloutError, type RolloutErrorCode } from './errors.js';
export type { EventSink, NodeSummary, Phase, RolloutEvent } from './events.js';
export { type Check, type GateResult, gateSummary, preGate } from './gates.js';
export { Interrupt } from './interrupt.js';
export { parseNodeMap } from './match.js';
export { isNodeName, printable } from './names.js';
export { ORDERS, type Order, type Plan, type Target } from './plan.js';
export { type Prepared, planOf, prepareRollout } from './prepare.js';
export { batchesOf, runRollout, summaries } from './runner.js';
export { defaultStatePath, type RolloutState, readState, stateDir } from './state.js';
