// test/executable/: the suites that hold guestlink to qemu-ga's behaviour and to its resource caps, run a
// second time with the single executable (scripts/build-sea.mjs, Node 24 SEA) as the agent instead of
// the checkout (this Node and bin/guestlink-agent.js). What ships is the executable (the extension, the
// DaemonSet image and the units run it), and its start-up work (lazy chunks, code caches, its own V8
// flags) must not change a reply or a limit (issue 16: "no regression ... with the executable as well as
// the checkout").
//
// Each file here builds the executable (incremental: a no-op when nothing changed, shared with
// test/package), sets GUESTLINK_TEST_EXECUTABLE, which the harness (test/peer/harness.ts agentCommand) and
// the VM (test/e2e/vm/vm.ts defaultAgentCommand) read at every start, then imports the suite itself: the
// same tests, the same assertions, nothing copied. Each also checks, first, that an agent the harness
// starts is that executable (its /proc/PID/exe), so a harness that ignored the variable would fail here
// rather than test the checkout twice.
import assert from 'node:assert/strict';
import { readlinkSync, realpathSync } from 'node:fs';
import { test } from 'node:test';
import { buildSea } from '../package/build.js';
import { makeTempDir, startGuestlink } from '../peer/harness.js';

/** Builds the executable, points the harness and the VM at it, and registers the check that they use it. */
export async function useExecutable(): Promise<string> {
  const sea = await buildSea('x64');
  process.env.GUESTLINK_TEST_EXECUTABLE = sea.exe;
  test('the agent under test is the single executable', async () => {
    const agent = await startGuestlink(makeTempDir('guestlink-exe-'));
    try {
      assert.equal(readlinkSync(`/proc/${agent.pid}/exe`), realpathSync(sea.exe));
    } finally {
      await agent.stop();
    }
  });
  return sea.exe;
}
