// A malicious guest tries to exhaust the host CLI's memory through `guestlink kubeconfig`: a file that
// claims 400 MiB and keeps coming, a single guest-file-read reply of 400 MiB, 400 MiB of /bin/cat
// output, YAML that expands exponentially (billion laughs) or nests without end. Each is stopped at
// its bound (exit 8 for size, 7 for the YAML) with the CLI's peak RSS, read from /proc while it is
// alive, under the documented ceiling.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import YAML from 'yaml';
import { fileHandlers, type HostileGuest, startHostileGuest } from './hostile-guest.js';
import { CLI_PEAK_RSS_CEILING_KIB, runCliMeasured } from './measure-cli.js';

const MiB = 1 << 20;
const KUBECONFIG = YAML.stringify({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'default', cluster: { server: 'https://10.0.0.1:6443' } }],
  users: [{ name: 'default', user: { token: 'abc' } }],
  contexts: [{ name: 'default', context: { cluster: 'default', user: 'default' } }],
});
const NET = {
  'guest-network-get-interfaces': (_a: unknown, r: { ok(v: unknown): void }) => r.ok([]),
};

describe('kubeconfig: oversize and expanding input from a malicious guest', () => {
  const guests: HostileGuest[] = [];
  after(async () => {
    for (const g of guests) await g.stop();
  });
  const guest = async (handlers: Parameters<typeof startHostileGuest>[0]) => {
    const g = await startHostileGuest({ ...NET, ...handlers });
    guests.push(g);
    return g;
  };
  const readBytesAsked = (g: HostileGuest) =>
    g.requests.filter((r) => r.execute === 'guest-file-read').reduce((n, r) => n + Number(r.arguments?.count ?? 0), 0);
  const underCeiling = (r: { peakKiB: number | undefined }, what: string) => {
    assert.ok(r.peakKiB !== undefined, 'the CLI reached its end and was measured');
    console.log(`# ${what}: CLI peak RSS ${(r.peakKiB / 1024).toFixed(1)} MiB (ceiling ${CLI_PEAK_RSS_CEILING_KIB / 1024} MiB)`);
    assert.ok(r.peakKiB < CLI_PEAK_RSS_CEILING_KIB, `peak ${r.peakKiB} KiB`);
  };

  test('a file that claims 400 MiB and keeps coming: reading stops at 1 MiB (exit 8)', async () => {
    const g = await guest(fileHandlers({ stream: 400 * MiB }));
    const r = await runCliMeasured(['kubeconfig', g.address, '--path', '/etc/rancher/k3s/k3s.yaml']);
    assert.equal(r.status, 8, r.stderr);
    assert.match(r.stderr, /larger than 1048576 bytes \(--max-bytes\); stopped reading it, nothing was written/);
    assert.ok(readBytesAsked(g) <= MiB + 1, `asked for ${readBytesAsked(g)} bytes`);
    underCeiling(r, '400 MiB file, read in chunks');
  });

  test('one guest-file-read reply of 400 MiB (more than asked for): the reply is cut off at its bound (exit 8)', async () => {
    const g = await guest(fileHandlers({ stream: 400 * MiB, greedy: true }));
    const r = await runCliMeasured(['kubeconfig', g.address, '--path', '/etc/rancher/k3s/k3s.yaml']);
    assert.equal(r.status, 8, r.stderr);
    assert.match(r.stderr, /reply to guest-file-read is over \d+ bytes; stopped reading it/);
    underCeiling(r, '400 MiB in one reply');
  });

  test('400 MiB of /bin/cat output (guest-exec): stopped at the bound (exit 8)', async () => {
    const g = await guest({
      'guest-exec': (_a, r) => r.ok({ pid: 7 }),
      'guest-exec-status': async (_a, r) => void (await r.streamBase64({ exited: true, exitcode: 0 }, 'out-data', 400 * MiB)),
    });
    const r = await runCliMeasured(['kubeconfig', g.address, '--path', '/etc/rancher/k3s/k3s.yaml']);
    assert.equal(r.status, 8, r.stderr);
    underCeiling(r, '400 MiB of exec output');
  });

  test('--max-bytes raises the bound for a large legitimate file', async () => {
    const big = Buffer.from(`${KUBECONFIG}# ${'padding '.repeat(200_000)}\n`);
    const g = await guest(fileHandlers({ content: big }));
    const refused = await runCliMeasured(['kubeconfig', g.address, '--path', '/k']);
    assert.equal(refused.status, 8, refused.stderr);
    const ok = await runCliMeasured(['kubeconfig', g.address, '--path', '/k', '--max-bytes', '2MiB']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(YAML.parse(ok.stdout).users[0].user.token, 'abc');
  });

  test('billion laughs: refused before expansion (exit 7), memory flat', async () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 12; i++) {
      const me = String.fromCharCode(97 + i);
      const prev = String.fromCharCode(96 + i);
      lines.push(`${me}: &${me} [${Array(10).fill(`*${prev}`).join(',')}]`);
    }
    const g = await guest(fileHandlers({ content: Buffer.from(`${KUBECONFIG}${lines.join('\n')}\n`) }));
    const r = await runCliMeasured(['kubeconfig', g.address, '--path', '/k']);
    assert.equal(r.status, 7, r.stderr);
    assert.match(r.stderr, /not plain YAML: an anchor \(&a\)/);
    underCeiling(r, 'billion laughs (10^12 nodes if expanded)');
  });

  test('hostile YAML: merge keys, tags, duplicate keys, several documents, deep nesting, 100,000 keys, not UTF-8', async () => {
    let keys = '';
    for (let i = 0; keys.length < MiB - 100; i++) keys += `k${i}: v\n`;
    const cases: [string | Buffer, RegExp][] = [
      [`${KUBECONFIG}x:\n  <<: {a: 1}\n`, /merge key/],
      [KUBECONFIG.replace('token: abc', 'token: !!binary YWJj'), /explicit tag/],
      [`${KUBECONFIG}kind: Config\n`, /unique/],
      [`${KUBECONFIG}---\n${KUBECONFIG}`, /2 documents/],
      ['['.repeat(MiB - 1), /more than 64 levels of nesting/],
      [`${'- '.repeat(500_000)}x\n`, /more than 64 levels of nesting/],
      [keys, /more than 10000 nodes/],
      [Buffer.concat([Buffer.from(KUBECONFIG), Buffer.from([0xff, 0xfe])]), /not UTF-8/],
    ];
    let text: string | Buffer = '';
    const g = await guest(fileHandlers({ content: () => Buffer.from(text) }));
    for (const [t, why] of cases) {
      text = t;
      const r = await runCliMeasured(['kubeconfig', g.address, '--path', '/k']);
      assert.equal(r.status, 7, `${why}: ${r.stderr}`);
      assert.match(r.stderr, why);
      assert.equal(r.stdout, '');
      underCeiling(r, `hostile YAML ${why}`);
    }
  });
});
