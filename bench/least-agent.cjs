// The least a Node agent can be, as the bench's reference for start-up and idle memory (issue 16): it
// answers guest-sync, guest-sync-delimited and guest-ping and nothing else; no configuration, no logger,
// no state, no limits. Never shipped and never a model for the agent (it trusts its input): it only says
// what Node itself costs before an agent does anything, built as a SEA on the same Node with the same
// flags as the executable (bench/least-agent.mjs).
//   least-agent agent -m unix-listen -p SOCKET ...   net.createServer on the socket
//   least-agent agent -m virtio-serial [-p PORT]     the port read with fs.read, replies written with writeSync
'use strict';
const args = process.argv.slice(2);
const flag = (name) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
const port = flag('-p') ?? '/dev/virtio-ports/org.qemu.guest_agent.0';

function reply(request) {
  const id = /"id":\s*(\d+)/.exec(request)?.[1];
  if (/guest-sync-delimited/.test(request)) return `\xff{"return": ${id ?? 0}}\n`;
  return id === undefined ? '{"return": {}}\n' : `{"return": ${id}}\n`;
}

/** Splits what arrives into newline-ended requests (0xFF bytes, the hosts' resync marker, dropped). */
function requests(answer) {
  let held = '';
  return (text) => {
    held += text.replace(/\xff/g, '');
    for (let i = held.indexOf('\n'); i >= 0; i = held.indexOf('\n')) {
      const line = held.slice(0, i);
      held = held.slice(i + 1);
      if (line.trim()) answer(reply(line));
    }
  };
}

if (flag('-m') === 'virtio-serial') {
  const fs = require('node:fs');
  const fd = fs.openSync(port, 'r+');
  const buf = Buffer.alloc(64 << 10);
  const feed = requests((text) => fs.writeSync(fd, Buffer.from(text, 'latin1')));
  const read = () =>
    fs.read(fd, buf, 0, buf.length, null, (err, n) => {
      if (err || n === 0) return setTimeout(read, 50);
      feed(buf.latin1Slice(0, n));
      read();
    });
  read();
} else {
  require('node:net')
    .createServer((c) => {
      const feed = requests((text) => c.write(text, 'latin1'));
      c.on('data', (d) => feed(d.latin1Slice()));
    })
    .listen(port);
}
