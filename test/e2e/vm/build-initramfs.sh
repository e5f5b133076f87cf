#!/bin/sh
# Builds the test VM's initramfs: busybox + the virtio modules of the Debian kernel. Its /init mounts
# the host's / read-only over virtio-9p (tag "hostroot") with a tmpfs overlay, so the guest runs the
# agent straight from the checkout, then runs the guest command given base64-encoded on the kernel
# command line (glcmd64=...). It also starts a probe on the virtio-serial port
# org.guestlink.probe that answers "stat" with the agent's fd count and CPU ticks and "boot-id" with the
# boot id (no guest-exec needed).
#
# usage: build-initramfs.sh OUT.cpio.gz [KERNEL_VERSION [FOREIGN_ROOT]]
# needs: busybox (static), cpio, gzip, kmod (modprobe), and /lib/modules/KERNEL_VERSION.
# FOREIGN_ROOT: a guest of another architecture than the host's (the aarch64 VM): its kernel, modules
# and static busybox are taken from FOREIGN_ROOT/boot, /lib/modules and /bin/busybox (the tree
# scripts/setup-apt.sh unpacks under /opt/guestlink-lab/ARCH) instead of the host's. Such a guest
# cannot run the host's programs, so its init gives the guest command busybox's shell and applets.
# Prints the kernel image path on stdout.
set -eu
OUT=$1
KVER=${2:-}
FOREIGN=${3:-}
ROOT=${FOREIGN:-}
if [ -z "$KVER" ]; then
  for k in $(ls -1 "$ROOT"/boot/vmlinuz-* 2>/dev/null | sort -V -r); do
    v=${k#"$ROOT"/boot/vmlinuz-}
    if [ -d "$ROOT/lib/modules/$v/kernel" ]; then KVER=$v; break; fi
  done
fi
[ -n "$KVER" ] || { echo "build-initramfs: no $ROOT/boot/vmlinuz-* with $ROOT/lib/modules found (apt-get install linux-image-amd64, or bash scripts/setup-apt.sh for a foreign root)" >&2; exit 1; }
if [ -n "$FOREIGN" ]; then
  BUSYBOX=$FOREIGN/bin/busybox
  [ -x "$BUSYBOX" ] || { echo "build-initramfs: $BUSYBOX missing (bash scripts/setup-apt.sh)" >&2; exit 1; }
else
  BUSYBOX=$(readlink -f "$(command -v busybox)") || { echo "build-initramfs: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gl-initramfs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
R=$WORK/root
mkdir -p "$R/bin" "$R/dev" "$R/proc" "$R/sys" "$R/mnt/lower" "$R/mnt/rw" "$R/newroot" "$R/modules"
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh mount mkdir insmod cat echo switch_root cp; do ln -s busybox "$R/bin/$a"; done

# Modules in dependency order (modprobe --show-depends lists them so).
: > "$R/modules/order"
# virtio_blk and ext4: tests may attach a small ext4 disk (/dev/vda) to show fsfreeze/fstrim on a real filesystem.
for m in virtio_pci virtio_console 9pnet_virtio 9p overlay virtio_net virtio_blk ext4; do
  modprobe -S "$KVER" ${FOREIGN:+-d "$FOREIGN"} --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}' | while read -r ko; do
    b=$(basename "$ko")
    case "$b" in *.xz) b=${b%.xz};; *.zst) b=${b%.zst};; esac
    grep -qx "$b" "$R/modules/order" && continue
    case "$ko" in
      *.xz) xz -dc "$ko" > "$R/modules/$b";;
      *.zst) zstd -qdc "$ko" > "$R/modules/$b";;
      *) cp "$ko" "$R/modules/$b";;
    esac
    echo "$b" >> "$R/modules/order"
  done
done

# Stage 1 (PID 1 in the initramfs): modules, 9p lower + tmpfs upper, switch_root into the host tree.
cat > "$R/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
for ko in $(cat /modules/order); do insmod "/modules/$ko" || echo "GLVM: insmod $ko failed"; done
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /mnt/lower; then
  echo "GLVM: FATAL: cannot mount the 9p share hostroot"; echo o > /proc/sysrq-trigger
fi
mount -t tmpfs -o mode=0755 tmpfs /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /newroot
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
mkdir -p /newroot/run/glvm
cp /bin/busybox /stage2 /newroot/run/glvm/
[ -e /foreign ] && cp /foreign /newroot/run/glvm/
echo "GLVM: root mounted uptime=$(cut -d' ' -f1 /proc/uptime)"
umount /proc
mount --move /dev /newroot/dev
exec switch_root /newroot /run/glvm/busybox sh /run/glvm/stage2
INIT

# Stage 2 (PID 1 inside the host tree): /proc, /dev links that udev would make, network, probe, command.
cat > "$R/stage2" <<'STAGE2'
BB=/run/glvm/busybox
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH
HOME=/root; export HOME
$BB mount -t proc proc /proc
$BB mount -t sysfs sysfs /sys
$BB mkdir -p /dev/pts /dev/shm
$BB mount -t devpts devpts /dev/pts
$BB mount -t tmpfs tmpfs /dev/shm
# /tmp stays the host's (through the overlay, writes land in tmpfs): a checkout under /tmp must be visible.
exec </dev/console >/dev/console 2>&1
arg() { for w in $($BB cat /proc/cmdline); do case "$w" in "$1"=*) echo "${w#*=}"; return;; esac; done; echo "$2"; }
$BB hostname "$(arg glhost gl-guest)"
$BB ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
  $BB ip addr add 10.0.2.15/24 dev eth0 && $BB ip link set eth0 up && $BB ip route add default via 10.0.2.2
fi
# /dev/virtio-ports/<name>: port names arrive asynchronously from the host; wait up to 5 s.
$BB mkdir -p /dev/virtio-ports
i=0
while [ $i -lt 50 ]; do
  missing=0
  for d in /sys/class/virtio-ports/vport*; do
    [ -e "$d" ] || { missing=1; continue; }
    n=$($BB cat "$d/name" 2>/dev/null)
    if [ -n "$n" ]; then $BB ln -sf "../$($BB basename "$d")" "/dev/virtio-ports/$n"; else missing=1; fi
  done
  [ $missing = 0 ] && break
  i=$((i + 1)); $BB sleep 0.1
done
echo "GLVM: virtio-ports: $($BB ls /dev/virtio-ports | $BB tr '\n' ' ')"
# Stand-ins for an init that acts on poweroff/reboot/halt: PID 1 here is this script, which does not
# handle the signals those commands send to init, and the host's /sbin/poweroff etc. are systemctl
# links (no systemd runs here). These shims in the tmpfs overlay go straight to reboot(2) with sync
# (busybox -f), which is what the init's shutdown ends in; the --power openrc back end runs them.
# Only this throwaway guest's overlay changes; the host's files are read-only underneath.
for c in poweroff reboot halt; do
  $BB rm -f "/sbin/$c"
  printf '#!/run/glvm/busybox sh\necho "GLVM: %s shim" >/dev/console\nexec /run/glvm/busybox %s -f\n' "$c" "$c" > "/sbin/$c"
  $BB chmod 755 "/sbin/$c"
done
# The shims log to the console (their callers capture stdout). The same for shutdown(8), which qemu-ga
# runs (`shutdown -h -P|-r|-H +0 MSG`), and so does --power shutdown-command.
$BB rm -f /sbin/shutdown
printf '%s\n' '#!/run/glvm/busybox sh' 'a=poweroff' \
  'for x in "$@"; do case "$x" in -r) a=reboot;; -H) a=halt;; -P) a=poweroff;; esac; done' \
  'echo "GLVM: shutdown shim: $a" >/dev/console' 'exec /run/glvm/busybox $a -f' > /sbin/shutdown
$BB chmod 755 /sbin/shutdown
# The probe: one line in ("stat", "kill-TERM" to signal the agent first, or "boot-id"), one line out with the
# agent's fd count and CPU ticks, or "pid=" once it is gone.
# It reads /proc for the pid in /run/glvm/agent.pid (the guest command's pid: commands should exec the
# agent); read() returns 0 while no host is attached, hence the sleep.
if [ -e /dev/virtio-ports/org.guestlink.probe ]; then
  (
    exec 3<>/dev/virtio-ports/org.guestlink.probe
    while :; do
      if read -r req <&3; then
        # "boot-id": this boot's /proc/sys/kernel/random/boot_id (what a kubelet reports as the Node's bootID).
        if [ "$req" = boot-id ]; then
          echo "boot_id=$($BB cat /proc/sys/kernel/random/boot_id) uptime=$($BB cut -d' ' -f1 /proc/uptime) req=$req" >&3
          continue
        fi
        pid=$($BB cat /run/glvm/agent.pid 2>/dev/null)
        case "$req" in kill-TERM) [ -n "$pid" ] && kill -TERM "$pid";; esac
        if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
          fds=$($BB ls "/proc/$pid/fd" | $BB wc -l)
          set -- $($BB cat "/proc/$pid/stat")
          shift 13
          echo "pid=$pid fds=$fds utime=$1 stime=$2 uptime=$($BB cut -d' ' -f1 /proc/uptime) req=$req" >&3
        else
          echo "pid= uptime=$($BB cut -d' ' -f1 /proc/uptime) req=$req" >&3
        fi
      else
        $BB sleep 0.2
      fi
    done
  ) &
fi
# A guest of another architecture than the host tree's (the aarch64 VM): none of the host's programs
# run here, so busybox's applets come first on PATH and its shell runs the command.
SH=/bin/sh
if [ -e /run/glvm/foreign ]; then
  $BB mkdir -p /run/glvm/bin
  $BB --install -s /run/glvm/bin
  PATH=/run/glvm/bin:$PATH; export PATH
  SH="$BB sh"
fi
CMD=$(arg glcmd64 "" | $BB base64 -d)
echo "GLVM: running: $CMD"
cd /
$SH -c "$CMD" &
pid=$!
echo $pid > /run/glvm/agent.pid
echo "GLVM: guest command started pid=$pid uptime=$($BB cut -d' ' -f1 /proc/uptime)"
wait $pid
echo "GLVM: guest command exited rc=$? uptime=$($BB cut -d' ' -f1 /proc/uptime)"
$BB sync
$BB poweroff -f
STAGE2
chmod 755 "$R/init" "$R/stage2"
[ -n "$FOREIGN" ] && echo "$KVER" > "$R/foreign"

mkdir -p "$(dirname "$OUT")"
# A temp name of our own, then an atomic rename: test files run in parallel and may build at once.
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT.tmp.$$"
mv -f "$OUT.tmp.$$" "$OUT"
echo "$ROOT/boot/vmlinuz-$KVER"
