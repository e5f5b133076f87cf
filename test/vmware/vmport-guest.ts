// Runs inside the QEMU test VM (test/vmware/vmport-vm.test.ts) as root: checks the addon's backdoor
// call against QEMU's vmport device, which answers BDOOR_CMD_GETVERSION like a VMware backdoor. QEMU
// TCG's CPUID vendor is not VMware, so the addon refuses first; then the test-only override and
// iopl(3) (ring 3 `in` faults under QEMU without it; VMware intercepts it) let the call through.
import { loadNative } from '../../src/native/addon.js';
import { BackdoorChannel, backdoorGetVersion } from '../../src/transport/vmware/backdoor.js';
import { TCLO_PROTO } from '../../src/transport/vmware/select.js';

const out = (k: string, v: unknown) => process.stdout.write(`VMPORT ${k} ${JSON.stringify(v)}\n`);
const native = loadNative();
if (!native?.backdoorCall) {
  out('error', 'addon not built');
  process.exit(1);
}
out('vendor', native.hypervisorVendor());
try {
  native.backdoorCall(0, 10, 0, 0, 0);
  out('refused', false);
} catch (err) {
  out('refused', (err as NodeJS.ErrnoException).code);
}
native.iopl(3);
native.backdoorAllowWithoutCpuid(true);
out('getversion', backdoorGetVersion(native.backdoorCall));
// vmport has no guest RPC (BDOOR_CMD_MESSAGE): opening a channel must fail cleanly, not hang or crash.
new BackdoorChannel(native.backdoorCall, TCLO_PROTO).start().then(
  () => out('message', 'opened'),
  (err: Error & { code?: string }) => out('message', err.code),
);
