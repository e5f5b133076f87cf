// guestlink's native addon: the few Linux syscalls Node has no binding for (FIFREEZE/FITHAW/FITRIM
// ioctls, clock_gettime/clock_settime, reboot, edge-triggered readiness of an fd without signals), and
// what the VMware front end needs and JavaScript cannot do: the CPUID hypervisor vendor, the VMware backdoor's `in` instruction
// (only once CPUID says VMware: on any other machine the instruction faults), and AF_VSOCK sockets.
// Plain N-API (C), built by node-gyp from binding.gyp; cross-built for arm64 by scripts/build-sea.mjs.
// The VMware parts are x86-only by nature (CPUID, the backdoor's `in` instruction, iopl; vsock to the
// VMX only serves them): on any other architecture they are not compiled and not exported, and the
// agent's --vmware says why (src/transport/vmware/select.ts, vmwareUnavailableReason).
// Every failure throws an Error whose message is strerror(errno) and whose code is the errno name, except
// fdRead/fdWrite, which return -errno (a non-blocking drain ends in EAGAIN every time).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/reboot.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#if defined(__x86_64__) || defined(__i386__)
#define GUESTLINK_VMWARE 1
#include <linux/vm_sockets.h>
#else
#define GUESTLINK_VMWARE 0
#endif

#define CHECK(call)                                                                  \
  do {                                                                               \
    if ((call) != napi_ok) {                                                         \
      napi_throw_error(env, "EINTERNAL", "guestlink addon: N-API call failed: " #call); \
      return NULL;                                                                   \
    }                                                                                \
  } while (0)

static const char *errno_name(int err) {
  const char *name = strerrorname_np(err);
  return name ? name : "EUNKNOWN";
}

// Throws Error(strerror(err)) with .code = errno name and .errno = err; returns NULL for the caller.
static napi_value throw_errno(napi_env env, int err, const char *syscall) {
  napi_value msg, code, error, num, sc;
  if (napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &msg) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code) != napi_ok) return NULL;
  if (napi_create_error(env, code, msg, &error) != napi_ok) return NULL;
  if (napi_create_int32(env, err, &num) == napi_ok) napi_set_named_property(env, error, "errno", num);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc) == napi_ok) napi_set_named_property(env, error, "syscall", sc);
  napi_throw(env, error);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  if (argc < want) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "guestlink addon: missing arguments");
    return -1;
  }
  return 0;
}

static int get_fd(napi_env env, napi_value v, int *fd) {
  if (napi_get_value_int32(env, v, fd) != napi_ok || *fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "guestlink addon: fd must be a non-negative integer");
    return -1;
  }
  return 0;
}

// Reads a number or bigint argument as int64.
static int get_i64(napi_env env, napi_value v, int64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_bigint) {
    bool lossless;
    if (napi_get_value_bigint_int64(env, v, out, &lossless) != napi_ok || !lossless) goto bad;
    return 0;
  }
  if (t == napi_number && napi_get_value_int64(env, v, out) == napi_ok) return 0;
bad:
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "guestlink addon: expected an integer (number or bigint)");
  return -1;
}

static napi_value simple_ioctl(napi_env env, napi_callback_info info, unsigned long req, const char *name) {
  napi_value argv[1];
  int fd;
  if (get_args(env, info, 1, argv) || get_fd(env, argv[0], &fd)) return NULL;
  if (ioctl(fd, req, 0) == -1) return throw_errno(env, errno, name);
  napi_value undef;
  CHECK(napi_get_undefined(env, &undef));
  return undef;
}

// fsFreeze(fd): ioctl(fd, FIFREEZE).
static napi_value fs_freeze(napi_env env, napi_callback_info info) { return simple_ioctl(env, info, FIFREEZE, "FIFREEZE"); }

// fsThaw(fd): ioctl(fd, FITHAW).
static napi_value fs_thaw(napi_env env, napi_callback_info info) { return simple_ioctl(env, info, FITHAW, "FITHAW"); }

// fsTrim(fd, minlen) -> { trimmed: bigint, minimum: bigint } (the kernel may raise minlen).
static napi_value fs_trim(napi_env env, napi_callback_info info) {
  napi_value argv[2], result, trimmed, minimum;
  int fd;
  int64_t minlen;
  if (get_args(env, info, 2, argv) || get_fd(env, argv[0], &fd) || get_i64(env, argv[1], &minlen)) return NULL;
  if (minlen < 0) minlen = 0;
  struct fstrim_range r = {.start = 0, .len = UINT64_MAX, .minlen = (uint64_t)minlen};
  if (ioctl(fd, FITRIM, &r) == -1) return throw_errno(env, errno, "FITRIM");
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_bigint_uint64(env, r.len, &trimmed));
  CHECK(napi_create_bigint_uint64(env, r.minlen, &minimum));
  CHECK(napi_set_named_property(env, result, "trimmed", trimmed));
  CHECK(napi_set_named_property(env, result, "minimum", minimum));
  return result;
}

// clockGetTime() -> bigint nanoseconds since the epoch (CLOCK_REALTIME).
static napi_value clock_get_time(napi_env env, napi_callback_info info) {
  (void)info;
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) == -1) return throw_errno(env, errno, "clock_gettime");
  napi_value out;
  CHECK(napi_create_bigint_int64(env, (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, &out));
  return out;
}

// clockSetTime(sec, nsec): clock_settime(CLOCK_REALTIME).
static napi_value clock_set_time(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t sec, nsec;
  if (get_args(env, info, 2, argv) || get_i64(env, argv[0], &sec) || get_i64(env, argv[1], &nsec)) return NULL;
  if (nsec < 0 || nsec >= 1000000000LL) return throw_errno(env, EINVAL, "clock_settime");
  struct timespec ts = {.tv_sec = (time_t)sec, .tv_nsec = (long)nsec};
  if (clock_settime(CLOCK_REALTIME, &ts) == -1) return throw_errno(env, errno, "clock_settime");
  napi_value undef;
  CHECK(napi_get_undefined(env, &undef));
  return undef;
}

// reboot(cmd): the reboot(2) syscall with one of the exported LINUX_REBOOT_CMD_* values. Only returns on failure.
static napi_value do_reboot(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t cmd;
  if (get_args(env, info, 1, argv) || get_i64(env, argv[0], &cmd)) return NULL;
  if (cmd != LINUX_REBOOT_CMD_POWER_OFF && cmd != LINUX_REBOOT_CMD_RESTART && cmd != LINUX_REBOOT_CMD_HALT)
    return throw_errno(env, EINVAL, "reboot");
  sync();
  if (reboot((int)cmd) == -1) return throw_errno(env, errno, "reboot");
  napi_value undef;
  CHECK(napi_get_undefined(env, &undef));
  return undef;
}

// ---- fd readiness without signals (virtio-serial) ----
//
// fdWatch(fd, callback) -> watch: calls callback() on the event loop each time fd may have become readable,
// or its peer attached or left. The virtio-serial driver reports POLLIN|POLLHUP for as long as no host is
// attached, so a level-triggered watch (libuv's uv_poll, Node's own) would spin; the fd goes into an epoll set
// of its own, edge-triggered (EPOLLET: an event each time the driver wakes its wait queue: data in, host
// attached or gone), and that epoll fd, readable while an edge is pending, is what libuv watches. The callback
// must read until EAGAIN or 0 (or it will not be called again for data already there). No signal, no pool
// thread: the kernel wakes the event loop directly. The fd is made non-blocking (O_NONBLOCK) once everything
// else has succeeded; a failure throws and leaves the fd as it was. fdUnwatch(watch) stops the watch and
// releases the epoll fd; the fd itself stays open (and non-blocking).
typedef struct {
  uv_poll_t poll;
  int epfd;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  int stopped;
  // The struct is freed once libuv has closed the handle and JS can no longer reach the external (both).
  int closed;
  int finalized;
} fd_watch;

static void watch_closed(uv_handle_t *h) {
  fd_watch *w = h->data;
  close(w->epfd);
  napi_delete_reference(w->env, w->cb);
  napi_async_destroy(w->env, w->ctx);
  w->closed = 1;
  if (w->finalized) free(w);
}

static void watch_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  fd_watch *w = data;
  w->finalized = 1;
  if (w->closed) free(w);
}

static void watch_ready(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  fd_watch *w = h->data;
  napi_env env = w->env;
  struct epoll_event ev[2];
  // Consumes the pending edge, so the epoll fd is no longer readable until the next one.
  while (epoll_wait(w->epfd, ev, 2, 0) == -1 && errno == EINTR) {
  }
  if (w->stopped) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, result;
  if (napi_get_reference_value(env, w->cb, &cb) == napi_ok && cb != NULL && napi_get_global(env, &recv) == napi_ok) {
    if (napi_make_callback(env, w->ctx, recv, cb, 0, NULL, &result) != napi_ok) {
      bool pending = false;
      napi_value err;
      // An exception in the callback is the process's uncaught exception, as from any other event.
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending && napi_get_and_clear_last_exception(env, &err) == napi_ok)
        napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static napi_value fd_watch_js(napi_env env, napi_callback_info info) {
  napi_value argv[2], name, out;
  int fd;
  napi_valuetype t;
  if (get_args(env, info, 2, argv) || get_fd(env, argv[0], &fd)) return NULL;
  CHECK(napi_typeof(env, argv[1], &t));
  if (t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "guestlink addon: fdWatch needs a callback");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd == -1) return throw_errno(env, errno, "epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data = {.fd = fd}};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
    int err = errno;
    close(epfd);
    return throw_errno(env, err, "epoll_ctl");
  }
  fd_watch *w = calloc(1, sizeof *w);
  if (w == NULL) {
    close(epfd);
    return throw_errno(env, ENOMEM, "fdWatch");
  }
  w->epfd = epfd;
  w->env = env;
  if (napi_create_reference(env, argv[1], 1, &w->cb) != napi_ok ||
      napi_create_string_utf8(env, "guestlink:fdWatch", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &w->ctx) != napi_ok) {
    if (w->cb) napi_delete_reference(env, w->cb);
    close(epfd);
    free(w);
    napi_throw_error(env, "EINTERNAL", "guestlink addon: fdWatch: N-API call failed");
    return NULL;
  }
  int rc = uv_poll_init(loop, &w->poll, epfd);
  if (rc != 0) {
    napi_delete_reference(env, w->cb);
    napi_async_destroy(env, w->ctx);
    close(epfd);
    free(w);
    return throw_errno(env, -rc, "uv_poll_init");
  }
  w->poll.data = w;
  int fl = fcntl(fd, F_GETFL), err = 0;
  const char *what = NULL;
  if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) err = errno, what = "fcntl(O_NONBLOCK)";
  else if ((rc = uv_poll_start(&w->poll, UV_READABLE, watch_ready)) != 0) {
    err = -rc, what = "uv_poll_start";
    fcntl(fd, F_SETFL, fl);
  }
  if (what != NULL) {
    w->stopped = 1;
    w->finalized = 1;
    uv_close((uv_handle_t *)&w->poll, watch_closed);
    return throw_errno(env, err, what);
  }
  if (napi_create_external(env, w, watch_finalize, NULL, &out) != napi_ok) {
    fcntl(fd, F_SETFL, fl);
    w->finalized = 1;
    w->stopped = 1;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, watch_closed);
    napi_throw_error(env, "EINTERNAL", "guestlink addon: fdWatch: N-API call failed");
    return NULL;
  }
  return out;
}

static napi_value fd_unwatch_js(napi_env env, napi_callback_info info) {
  napi_value argv[1], undef;
  napi_valuetype t;
  void *p;
  if (get_args(env, info, 1, argv)) return NULL;
  CHECK(napi_typeof(env, argv[0], &t));
  if (t != napi_external) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "guestlink addon: fdUnwatch needs what fdWatch returned");
    return NULL;
  }
  CHECK(napi_get_value_external(env, argv[0], &p));
  fd_watch *w = p;
  // Stops once; later calls do nothing (the struct lives on until the external is collected).
  if (w != NULL && !w->stopped) {
    w->stopped = 1;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, watch_closed);
  }
  CHECK(napi_get_undefined(env, &undef));
  return undef;
}

// A read(2)/write(2) result for JS: the byte count, or -errno when it failed (errno as the call left it).
static napi_value io_result(napi_env env, ssize_t n) {
  napi_value out;
  CHECK(napi_create_int64(env, n == -1 ? -(int64_t)errno : (int64_t)n, &out));
  return out;
}

// fdRead(fd, buffer) -> bytes read (0: end of file, for virtio-serial no host attached) or -errno. Never throws
// for the syscall: a non-blocking drain ends in EAGAIN every time, and an exception per drain costs.
static napi_value fd_read_js(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  void *data;
  size_t len;
  if (get_args(env, info, 2, argv) || get_fd(env, argv[0], &fd)) return NULL;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  ssize_t n;
  do n = read(fd, data, len);
  while (n == -1 && errno == EINTR);
  return io_result(env, n);
}

// fdWrite(fd, buffer, offset, length) -> bytes written or -errno (never throws for the syscall).
static napi_value fd_write_js(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int fd;
  void *data;
  size_t len;
  int64_t off, n;
  if (get_args(env, info, 4, argv) || get_fd(env, argv[0], &fd)) return NULL;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  if (get_i64(env, argv[2], &off) || get_i64(env, argv[3], &n)) return NULL;
  if (off < 0 || n < 0 || (uint64_t)off > len || (uint64_t)n > len - (uint64_t)off) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "guestlink addon: fdWrite: offset/length outside the buffer");
    return NULL;
  }
  ssize_t w;
  do w = write(fd, (char *)data + off, (size_t)n);
  while (w == -1 && errno == EINTR);
  return io_result(env, w);
}

// strerror(errno) -> the C library's text, as qemu-ga prints it.
static napi_value str_error(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  int32_t err;
  if (get_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_int32(env, argv[0], &err) != napi_ok) err = 0;
  CHECK(napi_create_string_utf8(env, strerror(err < 0 ? -err : err), NAPI_AUTO_LENGTH, &out));
  return out;
}


// ---- VMware: hypervisor detection, backdoor, vsock (x86 only) ----
#if GUESTLINK_VMWARE

// Writes the 12-byte CPUID hypervisor vendor (leaf 0x40000000) into out and returns 1, or returns 0 when
// CPUID leaf 1 does not set the hypervisor-present bit (ECX bit 31).
static int hypervisor_vendor(char out[13]) {
  uint32_t a = 1, b, c = 0, d;
  __asm__ __volatile__("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
  if (!(c & (1u << 31))) return 0;
  a = 0x40000000;
  c = 0;
  __asm__ __volatile__("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
  memcpy(out, &b, 4);
  memcpy(out + 4, &c, 4);
  memcpy(out + 8, &d, 4);
  out[12] = 0;
  return 1;
}

// hypervisorVendor() -> the CPUID vendor string ("VMwareVMware", "KVMKVMKVM", "TCGTCGTCGTCG", ...) or null.
static napi_value hypervisor_vendor_js(napi_env env, napi_callback_info info) {
  (void)info;
  char v[13];
  napi_value out;
  if (!hypervisor_vendor(v)) {
    CHECK(napi_get_null(env, &out));
    return out;
  }
  CHECK(napi_create_string_latin1(env, v, strnlen(v, 12), &out));
  return out;
}

// Set only by backdoorAllowWithoutCpuid(true): QEMU's vmport answers the backdoor although its CPUID
// vendor is not VMware; tests in a VM use it, with iopl(3), nothing else does.
static int backdoor_forced = 0;

static int backdoor_allowed(void) {
  char v[13];
  if (backdoor_forced) return 1;
  return hypervisor_vendor(v) && memcmp(v, "VMwareVMware", 12) == 0;
}

#define BDOOR_MAGIC 0x564D5868u
#define BDOOR_PORT 0x5658u

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "guestlink addon: expected a 32-bit unsigned integer");
    return -1;
  }
  return 0;
}

// backdoorCall(bx, cx, dxHigh, si, di) -> [eax, ebx, ecx, edx, esi, edi]: one low-bandwidth backdoor call,
// `in eax, dx` with EAX = 'VMXh' and DX = 0x5658 | dxHigh << 16. Throws ENODEV, without executing the
// instruction, unless CPUID says VMware (or the test override is on): elsewhere it would fault (SIGSEGV).
static napi_value backdoor_call(napi_env env, napi_callback_info info) {
  napi_value argv[5], out, n;
  uint32_t bx, cx, dxh, si, di;
  if (get_args(env, info, 5, argv) || get_u32(env, argv[0], &bx) || get_u32(env, argv[1], &cx) ||
      get_u32(env, argv[2], &dxh) || get_u32(env, argv[3], &si) || get_u32(env, argv[4], &di))
    return NULL;
  if (!backdoor_allowed()) return throw_errno(env, ENODEV, "vmware-backdoor");
  uint32_t ax = BDOOR_MAGIC, dx = (dxh << 16) | BDOOR_PORT;
  __asm__ __volatile__("inl %%dx, %%eax" : "+a"(ax), "+b"(bx), "+c"(cx), "+d"(dx), "+S"(si), "+D"(di) : : "memory");
  uint32_t regs[6] = {ax, bx, cx, dx, si, di};
  CHECK(napi_create_array_with_length(env, 6, &out));
  for (uint32_t i = 0; i < 6; i++) {
    CHECK(napi_create_uint32(env, regs[i], &n));
    CHECK(napi_set_element(env, out, i, n));
  }
  return out;
}

// backdoorAllowWithoutCpuid(on): the test-only override above; returns the previous value.
static napi_value backdoor_allow(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  bool on;
  if (get_args(env, info, 1, argv)) return NULL;
  CHECK(napi_get_value_bool(env, argv[0], &on));
  CHECK(napi_get_boolean(env, backdoor_forced != 0, &out));
  backdoor_forced = on ? 1 : 0;
  return out;
}

// iopl(level): lets ring 3 use every I/O port; needs CAP_SYS_RAWIO and is refused under lockdown. Only the
// QEMU vmport test needs it (VMware intercepts the backdoor port without it).
static napi_value do_iopl(napi_env env, napi_callback_info info) {
  napi_value argv[1], undef;
  int32_t level;
  if (get_args(env, info, 1, argv)) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &level));
  if (syscall(SYS_iopl, level) == -1) return throw_errno(env, errno, "iopl");
  CHECK(napi_get_undefined(env, &undef));
  return undef;
}

// vsockConnect(cid, port, reserved) -> fd: a connected AF_VSOCK stream socket, non-blocking and close-on-exec
// once connected. reserved: bind a source port from 1023 down to 512 first, as vmtoolsd does for RPCI (the
// VMX trusts privileged ports); EACCES (no CAP_NET_BIND_SERVICE) falls back to any port.
static napi_value vsock_connect(napi_env env, napi_callback_info info) {
  napi_value argv[3], out;
  uint32_t cid, port;
  bool reserved;
  if (get_args(env, info, 3, argv) || get_u32(env, argv[0], &cid) || get_u32(env, argv[1], &port)) return NULL;
  CHECK(napi_get_value_bool(env, argv[2], &reserved));
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1) return throw_errno(env, errno, "socket(AF_VSOCK)");
  struct timeval tv = {.tv_sec = 2, .tv_usec = 0};
  setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof tv);
  if (reserved) {
    for (unsigned p = 1023; p >= 512; p--) {
      struct sockaddr_vm local = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = p};
      if (bind(fd, (struct sockaddr *)&local, sizeof local) == 0) break;
      if (errno == EACCES || errno == EPERM) break;
      if (errno != EADDRINUSE) {
        int err = errno;
        close(fd);
        return throw_errno(env, err, "bind(AF_VSOCK)");
      }
    }
  }
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == -1) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "connect(AF_VSOCK)");
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "fcntl(O_NONBLOCK)");
  }
  CHECK(napi_create_int32(env, fd, &out));
  return out;
}
#endif // GUESTLINK_VMWARE

static int export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) != napi_ok) return -1;
  return napi_set_named_property(env, exports, name, fn) == napi_ok ? 0 : -1;
}

static int export_int(napi_env env, napi_value exports, const char *name, int64_t v) {
  napi_value n;
  if (napi_create_int64(env, v, &n) != napi_ok) return -1;
  return napi_set_named_property(env, exports, name, n) == napi_ok ? 0 : -1;
}

// The VMware exports, on x86 only (see the top of this file).
static int export_vmware(napi_env env, napi_value exports) {
#if GUESTLINK_VMWARE
  return export_fn(env, exports, "hypervisorVendor", hypervisor_vendor_js) || export_fn(env, exports, "backdoorCall", backdoor_call) ||
         export_fn(env, exports, "backdoorAllowWithoutCpuid", backdoor_allow) || export_fn(env, exports, "iopl", do_iopl) ||
         export_fn(env, exports, "vsockConnect", vsock_connect);
#else
  (void)env;
  (void)exports;
  return 0;
#endif
}

static napi_value init(napi_env env, napi_value exports) {
  if (export_fn(env, exports, "fsFreeze", fs_freeze) || export_fn(env, exports, "fsThaw", fs_thaw) ||
      export_fn(env, exports, "fsTrim", fs_trim) || export_fn(env, exports, "clockGetTime", clock_get_time) ||
      export_fn(env, exports, "clockSetTime", clock_set_time) || export_fn(env, exports, "reboot", do_reboot) ||
      export_fn(env, exports, "strerror", str_error) || export_vmware(env, exports) ||
      export_fn(env, exports, "fdWatch", fd_watch_js) || export_fn(env, exports, "fdUnwatch", fd_unwatch_js) ||
      export_fn(env, exports, "fdRead", fd_read_js) || export_fn(env, exports, "fdWrite", fd_write_js) ||
      export_int(env, exports, "LINUX_REBOOT_CMD_POWER_OFF", (int64_t)(uint32_t)LINUX_REBOOT_CMD_POWER_OFF) ||
      export_int(env, exports, "LINUX_REBOOT_CMD_RESTART", (int64_t)(uint32_t)LINUX_REBOOT_CMD_RESTART) ||
      export_int(env, exports, "LINUX_REBOOT_CMD_HALT", (int64_t)(uint32_t)LINUX_REBOOT_CMD_HALT)) {
    napi_throw_error(env, "EINTERNAL", "guestlink addon: cannot build exports");
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
