#!/usr/bin/env bash
# The README's first command: installs what is needed, builds, and serves QGA on a local unix
# socket with the dry-run power back end (guest-shutdown is recorded, never executed).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${GUESTLINK_DEMO_DIR:-/tmp/guestlink}
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run -s build
mkdir -p "$dir/state" "$dir/files"
echo "guestlink demo file" > "$dir/files/hello.txt"
cat <<MSG
guestlink agent on unix:$dir/qga.sock (Ctrl-C stops it). In another terminal:
  node bin/guestlink.js info unix:$dir/qga.sock
  node bin/guestlink.js osinfo unix:$dir/qga.sock
  node bin/guestlink.js ips unix:$dir/qga.sock -o yaml
  node bin/guestlink.js cp unix:$dir/qga.sock:$dir/files/hello.txt ./hello.txt
  node bin/guestlink.js call unix:$dir/qga.sock guest-get-fsinfo
  node bin/guestlink.js call unix:$dir/qga.sock guest-shutdown --arg mode=reboot   # recorded in $dir/state/guestlink-power.jsonl
  echo '{"execute":"guest-ping"}' | socat - UNIX-CONNECT:$dir/qga.sock
Reads are allowed under $dir/files/ (try guest-file-open --arg path=$dir/files/hello.txt).
MSG
exec node bin/guestlink-agent.js -m unix-listen -p "$dir/qga.sock" -t "$dir/state" --power dry-run \
  --allow-file-read "$dir/files/" -c /dev/null "$@"
