// What the VMware front end needs and JavaScript cannot do: the CPUID hypervisor vendor, the VMware
// backdoor's `in` instruction (only once CPUID says VMware: on any other machine the instruction faults),
// and AF_VSOCK sockets (see guestlink.h for the layout).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "guestlink.h"

// Writes the 12-byte CPUID hypervisor vendor (leaf 0x40000000) into out and returns 1, or returns 0 when
// CPUID leaf 1 does not set the hypervisor-present bit (ECX bit 31) or the machine is not x86.
static int hypervisor_vendor(char out[13]) {
#if defined(__x86_64__) || defined(__i386__)
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
#else
  (void)out;
  return 0;
#endif
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

// backdoorCall(bx, cx, dxHigh, si, di) -> [eax, ebx, ecx, edx, esi, edi]: one low-bandwidth backdoor call,
// `in eax, dx` with EAX = 'VMXh' and DX = 0x5658 | dxHigh << 16. Throws ENODEV, without executing the
// instruction, unless CPUID says VMware (or the test override is on): elsewhere it would fault (SIGSEGV).
static napi_value backdoor_call(napi_env env, napi_callback_info info) {
  napi_value argv[5], out, n;
  uint32_t bx, cx, dxh, si, di;
  if (gl_get_args(env, info, 5, argv) || gl_get_u32(env, argv[0], &bx) || gl_get_u32(env, argv[1], &cx) ||
      gl_get_u32(env, argv[2], &dxh) || gl_get_u32(env, argv[3], &si) || gl_get_u32(env, argv[4], &di))
    return NULL;
  if (!backdoor_allowed()) return gl_throw_errno(env, ENODEV, "vmware-backdoor");
#if defined(__x86_64__) || defined(__i386__)
  uint32_t ax = BDOOR_MAGIC, dx = (dxh << 16) | BDOOR_PORT;
  __asm__ __volatile__("inl %%dx, %%eax" : "+a"(ax), "+b"(bx), "+c"(cx), "+d"(dx), "+S"(si), "+D"(di) : : "memory");
  uint32_t regs[6] = {ax, bx, cx, dx, si, di};
  CHECK(napi_create_array_with_length(env, 6, &out));
  for (uint32_t i = 0; i < 6; i++) {
    CHECK(napi_create_uint32(env, regs[i], &n));
    CHECK(napi_set_element(env, out, i, n));
  }
  return out;
#else
  (void)out;
  (void)n;
  return gl_throw_errno(env, ENOSYS, "vmware-backdoor");
#endif
}

// backdoorAllowWithoutCpuid(on): the test-only override above; returns the previous value.
static napi_value backdoor_allow(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  bool on;
  if (gl_get_args(env, info, 1, argv)) return NULL;
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
  if (gl_get_args(env, info, 1, argv)) return NULL;
  CHECK(napi_get_value_int32(env, argv[0], &level));
#if defined(__x86_64__) || defined(__i386__)
  if (syscall(SYS_iopl, level) == -1) return gl_throw_errno(env, errno, "iopl");
#else
  (void)level;
  return gl_throw_errno(env, ENOSYS, "iopl");
#endif
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
  if (gl_get_args(env, info, 3, argv) || gl_get_u32(env, argv[0], &cid) || gl_get_u32(env, argv[1], &port)) return NULL;
  CHECK(napi_get_value_bool(env, argv[2], &reserved));
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1) return gl_throw_errno(env, errno, "socket(AF_VSOCK)");
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
        return gl_throw_errno(env, err, "bind(AF_VSOCK)");
      }
    }
  }
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == -1) {
    int err = errno;
    close(fd);
    return gl_throw_errno(env, err, "connect(AF_VSOCK)");
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
    int err = errno;
    close(fd);
    return gl_throw_errno(env, err, "fcntl(O_NONBLOCK)");
  }
  CHECK(napi_create_int32(env, fd, &out));
  return out;
}

int gl_init_vmware(napi_env env, napi_value exports) {
  return gl_export_fn(env, exports, "hypervisorVendor", hypervisor_vendor_js) || gl_export_fn(env, exports, "backdoorCall", backdoor_call) ||
         gl_export_fn(env, exports, "backdoorAllowWithoutCpuid", backdoor_allow) || gl_export_fn(env, exports, "iopl", do_iopl) ||
         gl_export_fn(env, exports, "vsockConnect", vsock_connect);
}
