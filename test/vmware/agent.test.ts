// The agent on a machine that is not VMware (this one): --vmware auto starts nothing and the agent
// serves QGA as before; an explicit --vmware backdoor or vsock refuses to start, saying why.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { startAgent } from '../../src/agent/main.js';
import { loadNative } from '../../src/native/addon.js';
import { testAgentArgs } from '../peer/harness.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gl-vmware-agent-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function args(name: string, vmware: string): string[] {
  return testAgentArgs(dir, name, ['--node-backend', 'linux', '--kube', 'off', '-v', '--vmware', vmware]);
}

test('--vmware auto on a non-VMware machine: the agent starts, the VMware front end does not', async () => {
  const agent = await startAgent(args('auto', 'auto'), {});
  try {
    assert.ok(agent);
    assert.equal(agent.config.vmware, 'auto');
  } finally {
    await agent?.close();
  }
  const logText = readFileSync(path.join(dir, 'auto.log'), 'utf8');
  if (loadNative()?.hypervisorVendor) assert.match(logText, /VMware front end off.*|"reason":"CPUID hypervisor vendor is/);
  assert.doesNotMatch(logText, /VMware guest RPC front end started/);
});

test('--vmware backdoor / vsock on a non-VMware machine: refused with the reason', async () => {
  for (const mode of ['backdoor', 'vsock']) {
    await assert.rejects(startAgent(args(mode, mode), {}), (err: Error) => {
      assert.match(err.message, new RegExp(`--vmware ${mode}: (CPUID hypervisor vendor is .*not VMware|.*native addon)`));
      return true;
    });
  }
});

test('--vmware off is accepted; a wrong value is a configuration error', async () => {
  const agent = await startAgent(args('off', 'off'), {});
  await agent?.close();
  await assert.rejects(startAgent(args('bad', 'esx'), {}), /vmware/);
});
