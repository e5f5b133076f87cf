// vCPUs, memory blocks, CPU counters.
import type { LogicalCpu, MemoryBlock } from '../node/interfaces.js';
import type { GroupHandlers } from './context.js';

type WireCpu = { 'logical-id': number; online: boolean; 'can-offline'?: boolean };
type WireBlock = { 'phys-index': number; online: boolean; 'can-offline'?: boolean };

/** vCPUs, memory blocks and CPU counters (group 'hardware'). */
export const hardwareHandlers = {
  'guest-get-vcpus': async (_a, ctx) =>
    (await ctx.node.system.vcpus()).map((c) => ({ 'logical-id': c.logicalId, online: c.online, 'can-offline': c.canOffline })),
  'guest-set-vcpus': async (args: { vcpus: WireCpu[] }, ctx) => {
    const cpus: LogicalCpu[] = args.vcpus.map((c) => ({ logicalId: Number(c['logical-id']), online: c.online }));
    return ctx.node.hardware.setVcpus(cpus);
  },
  'guest-get-memory-blocks': async (_a, ctx) =>
    (await ctx.node.system.memoryBlocks()).map((b) => ({ 'phys-index': b.physIndex, online: b.online, 'can-offline': b.canOffline })),
  'guest-set-memory-blocks': async (args: { 'mem-blks': WireBlock[] }, ctx) => {
    const blocks: MemoryBlock[] = args['mem-blks'].map((b) => ({ physIndex: Number(b['phys-index']), online: b.online }));
    return (await ctx.node.hardware.setMemoryBlocks(blocks)).map((r) => ({
      'phys-index': r.physIndex,
      response: r.response,
      'error-code': r.errorCode,
    }));
  },
  'guest-get-memory-block-info': async (_a, ctx) => ({ size: await ctx.node.system.memoryBlockSize() }),
  'guest-get-cpustats': async (_a, ctx) =>
    (await ctx.node.system.cpuStats()).map((c) => ({
      type: 'linux',
      cpu: c.cpu,
      user: c.user,
      nice: c.nice,
      system: c.system,
      idle: c.idle,
      iowait: c.iowait,
      irq: c.irq,
      softirq: c.softirq,
      steal: c.steal,
      guest: c.guest,
      guestnice: c.guestnice,
    })),
  'guest-get-devices': () => [],
} satisfies GroupHandlers<'hardware'>;
