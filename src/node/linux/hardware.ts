// Onlining/offlining vCPUs and memory blocks through sysfs `online`/`state` files, with qemu-ga 7.2's
// semantics: vCPUs stop at the first failure (an error only if none was processed), memory blocks
// get one response each with qemu-ga's response codes and errno values.
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { errnoCode, errnoOf, strerror } from '../../protocol/qga/errno-text.js';
import { genericError } from '../../protocol/qga/errors.js';
import type { Hardware, LogicalCpu, MemoryBlock, MemoryBlockResult } from '../interfaces.js';
import { preadSmall, probeDir, pwriteSmall } from './fs-raw.js';
import { sysPaths } from './system.js';

/** Hardware over a root directory ('/' in production, a fixture tree in tests). */
export class LinuxHardware implements Hardware {
  private readonly paths: ReturnType<typeof sysPaths>;

  constructor(root = '/') {
    this.paths = sysPaths(root);
  }

  async setVcpus(cpus: LogicalCpu[]): Promise<number> {
    let processed = 0;
    for (const cpu of cpus) {
      const err = this.setVcpu(cpu);
      if (err) {
        if (processed === 0) throw genericError(err);
        break;
      }
      processed++;
    }
    return processed;
  }

  /** One vCPU; returns qemu-ga's error text, or undefined on success. */
  private setVcpu(cpu: LogicalCpu): string | undefined {
    const dir = this.paths.cpu(cpu.logicalId);
    const file = `${dir}/online`;
    try {
      probeDir(dir);
    } catch (e) {
      return `open("${dir}"): ${strerror(e)}`;
    }
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDWR);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') return `open("${file}"): ${strerror(e)}`;
      if (!cpu.online) return `logical processor #${cpu.logicalId} can't be offlined`;
      return undefined; // no `online` file (cpu0): re-onlining is a no-op
    }
    try {
      const buf = Buffer.alloc(1);
      let n: number;
      try {
        n = readSync(fd, buf, 0, 1, 0);
      } catch (e) {
        return `pread("${file}"): ${strerror(e)}`;
      }
      if (n === 0) return `pread("${file}"): unexpected EOF`;
      const isOnline = buf[0] !== 0x30;
      if (cpu.online !== isOnline) {
        try {
          writeSync(fd, cpu.online ? '1' : '0', 0, 'latin1');
        } catch (e) {
          return `pwrite("${file}"): ${strerror(e)}`;
        }
      }
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  async setMemoryBlocks(blocks: MemoryBlock[]): Promise<MemoryBlockResult[]> {
    return blocks.map((b) => this.setBlock(b));
  }

  /** One memory block, following qemu-ga's transfer_memory_block (including its error-code quirks). */
  private setBlock(block: MemoryBlock): MemoryBlockResult {
    const physIndex = block.physIndex;
    try {
      probeDir(this.paths.memoryDir);
    } catch (e) {
      // qemu-ga leaves the response at its zero value ("success") for errors other than ENOENT.
      return { physIndex, response: errnoCode(e) === 'ENOENT' ? 'operation-not-supported' : 'success', errorCode: errnoOf(e) };
    }
    const dir = this.paths.memory(physIndex);
    try {
      probeDir(dir);
    } catch (e) {
      return { physIndex, response: errnoCode(e) === 'ENOENT' ? 'not-found' : 'operation-failed', errorCode: errnoOf(e) };
    }
    let state: string;
    try {
      state = preadSmall(`${dir}state`, 10);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') {
        // Old kernels without `state`: blocks are online and stay so.
        return { physIndex, response: block.online ? 'success' : 'operation-not-supported', errorCode: errnoOf(e) };
      }
      return { physIndex, response: 'operation-failed', errorCode: errnoOf(e) };
    }
    if (state === '') return { physIndex, response: 'operation-failed', errorCode: 0 };
    if (block.online !== state.startsWith('online')) {
      try {
        pwriteSmall(`${dir}state`, block.online ? 'online' : 'offline');
      } catch (e) {
        return { physIndex, response: 'operation-failed', errorCode: errnoOf(e) };
      }
    }
    return { physIndex, response: 'success' };
  }
}
