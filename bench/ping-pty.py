#!/usr/bin/env python3
# The ping path on the virtio-serial transport without a VM: each build's agent runs `-m virtio-serial` on
# the slave side of its own pseudo-terminal (raw mode: bytes pass unchanged), this client writes pings to
# the master side. That is the production read and write path (the native addon's readiness watch,
# non-blocking reads into the port's buffer, writes straight from the reply), which the unix socket of
# bench/ping-path.mjs is not (Node's net streams allocate per read and per write). Needs the addon
# (`npm run build:native`), else the port polls. Python because Node cannot open a pty pair by itself.
#
#   python3 bench/ping-pty.py before=/tmp/old/bin/guestlink-agent.js after=bin/guestlink-agent.js [--pings 30000]
#
# Each agent counts its collections (bench/gc-probe.cjs). The client runs on CPU 0, the agents on CPU 1;
# pings alternate between the builds in 10 slices after 2,000 unmeasured each. Prints a markdown table.
import json
import os
import subprocess
import sys
import tempfile
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = os.path.join(ROOT, 'bench', 'gc-probe.cjs')
PING = b'{"execute":"guest-ping"}\n'


def ping(agent, n, rtts=None):
    m = agent['master']
    for _ in range(n):
        t = time.perf_counter_ns()
        os.write(m, PING)
        buf = b''
        while not buf.endswith(b'\n'):
            buf += os.read(m, 4096)
        if rtts is not None:
            rtts.append((time.perf_counter_ns() - t) / 1000)
        if b'"return"' not in buf:
            raise SystemExit(f'{agent["name"]}: unexpected reply {buf[:200]!r}')


def gc_counts(agent):
    with open(agent['gc']) as f:
        return json.loads(f.read().strip())


def main():
    args = sys.argv[1:]
    pings = 30000
    if '--pings' in args:
        i = args.index('--pings')
        pings = int(args[i + 1])
        del args[i : i + 2]
    work = tempfile.mkdtemp(prefix='guestlink-ping-pty-')
    agents = []
    try:
        for spec in args:
            name, entry = spec.split('=', 1)
            master, slave = os.openpty()
            tty.setraw(slave)
            tty.setraw(master)
            state = os.path.join(work, f'{name}-state')
            os.makedirs(state)
            gc = os.path.join(work, f'{name}.gc')
            cmd = ['node', '--require', PROBE, os.path.abspath(entry), '-m', 'virtio-serial', '-p', os.ttyname(slave)]
            cmd += ['-t', state, '-c', '/dev/null', '--power', 'dry-run']
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=dict(os.environ, GUESTLINK_GC_PROBE=gc))
            agents.append(dict(name=name, master=master, slave=slave, proc=proc, gc=gc))
        for a in agents:
            deadline = time.time() + 20
            while not os.path.exists(a['gc']) and time.time() < deadline:
                time.sleep(0.05)
            ping(a, 1)  # answers once it has opened the port
        pinned = len(os.sched_getaffinity(0)) > 1
        if pinned:
            os.sched_setaffinity(0, {0})
            for a in agents:
                subprocess.run(['taskset', '-a', '-cp', '1', str(a['proc'].pid)], stdout=subprocess.DEVNULL, check=False)
        for a in agents:
            ping(a, 2000)
        time.sleep(0.2)
        before = {a['name']: gc_counts(a) for a in agents}
        rtts = {a['name']: [] for a in agents}
        for s in range(10):
            for a in agents if s % 2 == 0 else agents[::-1]:
                ping(a, pings // 10, rtts[a['name']])
        time.sleep(0.2)
        load = ' '.join(f'{x:.2f}' for x in os.getloadavg())
        print(f'virtio-serial on a pty; {pings} pings each after 2000 unmeasured, 10 interleaved slices'
              f'{", pinned" if pinned else ""}; load average {load}')
        print('| build | median (µs) | p99 (µs) | max (µs) | scavenges per 30,000 pings | scavenge time (ms) |')
        print('|---|---:|---:|---:|---:|---:|')
        for a in agents:
            r = sorted(rtts[a['name']])
            n, b = gc_counts(a), before[a['name']]
            scale = 30000 / len(r)
            print(f"| {a['name']} | {r[len(r) // 2]:.1f} | {r[int(len(r) * 0.99)]:.0f} | {r[-1]:.0f} | "
                  f"{(n['minor'] - b['minor']) * scale:.1f} | {n['minorMs'] - b['minorMs']:.1f} |")
    finally:
        for a in agents:
            a['proc'].terminate()
            a['proc'].wait()
            os.close(a['master'])
            os.close(a['slave'])
        subprocess.run(['rm', '-rf', work], check=False)


if __name__ == '__main__':
    main()
