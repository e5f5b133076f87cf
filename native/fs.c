// Filesystems, clock and power: FIFREEZE/FITHAW/FITRIM, clock_gettime/clock_settime, reboot(2), and the
// file opener guest-file-open uses, which never leaves an allow-listed directory (see guestlink.h).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/reboot.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guestlink.h"

static napi_value simple_ioctl(napi_env env, napi_callback_info info, unsigned long req, const char *name) {
  napi_value argv[1];
  int fd;
  if (gl_get_args(env, info, 1, argv) || gl_get_fd(env, argv[0], &fd)) return NULL;
  if (ioctl(fd, req, 0) == -1) return gl_throw_errno(env, errno, name);
  return gl_undefined(env);
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
  if (gl_get_args(env, info, 2, argv) || gl_get_fd(env, argv[0], &fd) || gl_get_i64(env, argv[1], &minlen)) return NULL;
  if (minlen < 0) minlen = 0;
  struct fstrim_range r = {.start = 0, .len = UINT64_MAX, .minlen = (uint64_t)minlen};
  if (ioctl(fd, FITRIM, &r) == -1) return gl_throw_errno(env, errno, "FITRIM");
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
  if (clock_gettime(CLOCK_REALTIME, &ts) == -1) return gl_throw_errno(env, errno, "clock_gettime");
  napi_value out;
  CHECK(napi_create_bigint_int64(env, (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, &out));
  return out;
}

// clockSetTime(sec, nsec): clock_settime(CLOCK_REALTIME).
static napi_value clock_set_time(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t sec, nsec;
  if (gl_get_args(env, info, 2, argv) || gl_get_i64(env, argv[0], &sec) || gl_get_i64(env, argv[1], &nsec)) return NULL;
  if (nsec < 0 || nsec >= 1000000000LL) return gl_throw_errno(env, EINVAL, "clock_settime");
  struct timespec ts = {.tv_sec = (time_t)sec, .tv_nsec = (long)nsec};
  if (clock_settime(CLOCK_REALTIME, &ts) == -1) return gl_throw_errno(env, errno, "clock_settime");
  return gl_undefined(env);
}

// reboot(cmd): the reboot(2) syscall with one of the exported LINUX_REBOOT_CMD_* values. Only returns on failure.
static napi_value do_reboot(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t cmd;
  if (gl_get_args(env, info, 1, argv) || gl_get_i64(env, argv[0], &cmd)) return NULL;
  if (cmd != LINUX_REBOOT_CMD_POWER_OFF && cmd != LINUX_REBOOT_CMD_RESTART && cmd != LINUX_REBOOT_CMD_HALT)
    return gl_throw_errno(env, EINVAL, "reboot");
  sync();
  if (reboot((int)cmd) == -1) return gl_throw_errno(env, errno, "reboot");
  return gl_undefined(env);
}

// ---- openBeneath: a file beneath a directory, never beside it ----
//
// openBeneath(root, relative, flags, mode, walk) -> Promise<fd>: opens `relative` (components separated by
// '/', none empty, '.' or '..') beneath the directory `root`, following no symbolic link on the way, so a
// local user who can rename things inside the tree (renameat2 RENAME_EXCHANGE of a directory with a symlink
// to elsewhere) cannot make it open a file outside: every component is looked up relative to the directory
// fd reached so far, never by a path string walked again later.
//   - openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) from a directory fd of root
//     (Linux >= 5.6): the kernel does it in one lookup;
//   - without openat2 (ENOSYS, or EPERM from a seccomp filter that predates it), or when `walk` is true
//     (tests simulate such a kernel with it): one openat(O_PATH|O_DIRECTORY|O_NOFOLLOW) per directory from
//     the root fd, then openat(O_NOFOLLOW) of the last name.
// A symlink anywhere beneath root fails with ELOOP. root itself is opened as given (it is the administrator's
// allow-list entry, already resolved by the caller). The fd is always O_CLOEXEC. Runs on a libuv pool thread:
// a hung filesystem holds one open, not the agent's event loop.

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#if defined(__has_include) && __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#else
struct open_how {
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#endif

// Flags a caller may ask for; anything else (O_PATH, O_TMPFILE, O_DIRECTORY tricks) is EINVAL.
#define OPEN_FLAGS_ALLOWED (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_NONBLOCK | O_NOCTTY)

// Whether this kernel has openat2: probed once at load.
static int have_openat2 = 0;

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve) {
  struct open_how how = {.flags = (uint64_t)flags, .mode = (flags & O_CREAT) ? mode : 0, .resolve = resolve};
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static void probe_openat2(void) {
  int fd = sys_openat2(AT_FDCWD, "/", O_PATH | O_CLOEXEC, 0, RESOLVE_NO_MAGICLINKS);
  if (fd >= 0) close(fd);
  have_openat2 = fd >= 0 || (errno != ENOSYS && errno != EPERM);
}

// 1 when `rel` is relative and has no empty, '.' or '..' component.
static int plain_relative(const char *rel) {
  if (*rel == '\0' || *rel == '/') return 0;
  for (const char *c = rel; *c != '\0';) {
    const char *end = strchrnul(c, '/');
    size_t n = (size_t)(end - c);
    if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) return 0;
    c = *end == '/' ? end + 1 : end;
    if (*end == '/' && *c == '\0') return 0;
  }
  return 1;
}

// One openat per component from rootfd; `rel` is modified (each '/' becomes '\0' in turn).
static int open_walk(int rootfd, char *rel, int flags, mode_t mode) {
  int dirfd = rootfd, fd, err;
  char *name = rel;
  for (char *slash; (slash = strchr(name, '/')) != NULL; name = slash + 1) {
    *slash = '\0';
    int next = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    err = errno;
    // O_PATH|O_NOFOLLOW opens a symlink itself, which O_DIRECTORY then refuses: report it as openat2 does.
    // readlinkat succeeds only on a symlink (and, unlike fstatat, needs no glibc newer than 2.28).
    char one;
    if (next < 0 && err == ENOTDIR && readlinkat(dirfd, name, &one, 1) >= 0) err = ELOOP;
    if (dirfd != rootfd) close(dirfd);
    if (next < 0) {
      errno = err;
      return -1;
    }
    dirfd = next;
  }
  fd = openat(dirfd, name, flags | O_NOFOLLOW, mode);
  err = errno;
  if (dirfd != rootfd) close(dirfd);
  errno = err;
  return fd;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *root;
  char *rel;
  int flags;
  mode_t mode;
  int walk;
  int fd;
  int err;
  const char *syscall;
} open_job;

static void open_execute(napi_env env, void *data) {
  (void)env;
  open_job *j = data;
  j->fd = -1;
  int rootfd = open(j->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) {
    j->err = errno, j->syscall = "open(root)";
    return;
  }
  int flags = j->flags | O_NOFOLLOW | O_CLOEXEC;
  if (have_openat2 && !j->walk) {
    j->syscall = "openat2";
    // EAGAIN: the kernel saw a concurrent rename it could not rule out; it asks for a retry (bounded here,
    // since an O_NONBLOCK open of a leased file gives EAGAIN too).
    int tries = 0;
    do j->fd = sys_openat2(rootfd, j->rel, flags, j->mode, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    while (j->fd < 0 && (errno == EINTR || (errno == EAGAIN && ++tries < 8)));
  } else {
    j->syscall = "openat";
    do j->fd = open_walk(rootfd, j->rel, flags, j->mode);
    while (j->fd < 0 && errno == EINTR);
  }
  j->err = errno;
  close(rootfd);
}

static void open_complete(napi_env env, napi_status status, void *data) {
  open_job *j = data;
  napi_value v = NULL;
  if (status == napi_ok && j->fd >= 0 && napi_create_int32(env, j->fd, &v) == napi_ok) {
    napi_resolve_deferred(env, j->deferred, v);
  } else {
    if (j->fd >= 0) close(j->fd);
    napi_value error = gl_errno_error(env, status == napi_cancelled ? ECANCELED : j->fd >= 0 ? ENOMEM : j->err, j->syscall);
    if (error == NULL) napi_get_undefined(env, &error);
    napi_reject_deferred(env, j->deferred, error);
  }
  napi_delete_async_work(env, j->work);
  free(j->root);
  free(j->rel);
  free(j);
}

static napi_value open_beneath(napi_env env, napi_callback_info info) {
  napi_value argv[5], name, promise;
  int64_t flags, mode;
  bool walk;
  if (gl_get_args(env, info, 5, argv) || gl_get_i64(env, argv[2], &flags) || gl_get_i64(env, argv[3], &mode)) return NULL;
  CHECK(napi_get_value_bool(env, argv[4], &walk));
  if ((flags & ~(int64_t)OPEN_FLAGS_ALLOWED) != 0 || mode < 0 || mode > 07777) return gl_throw_errno(env, EINVAL, "openBeneath");
  open_job *j = calloc(1, sizeof *j);
  if (j == NULL) return gl_throw_errno(env, ENOMEM, "openBeneath");
  j->root = gl_get_string(env, argv[0]);
  j->rel = j->root ? gl_get_string(env, argv[1]) : NULL;
  if (j->rel == NULL || !plain_relative(j->rel) || j->root[0] != '/') {
    int bad = j->rel != NULL;
    free(j->root), free(j->rel), free(j);
    return bad ? gl_throw_errno(env, EINVAL, "openBeneath") : NULL;
  }
  j->flags = (int)flags, j->mode = (mode_t)mode, j->walk = walk;
  if (napi_create_string_utf8(env, "guestlink:openBeneath", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_promise(env, &j->deferred, &promise) != napi_ok ||
      napi_create_async_work(env, NULL, name, open_execute, open_complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    // A created promise is never settled here; nothing else was queued.
    free(j->root), free(j->rel), free(j);
    napi_throw_error(env, "EINTERNAL", "guestlink addon: openBeneath: N-API call failed");
    return NULL;
  }
  return promise;
}

// openat2Supported() -> whether openBeneath uses openat2 (false: the openat walk).
static napi_value openat2_supported(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_get_boolean(env, have_openat2 != 0, &out));
  return out;
}

int gl_init_fs(napi_env env, napi_value exports) {
  probe_openat2();
  return gl_export_fn(env, exports, "fsFreeze", fs_freeze) || gl_export_fn(env, exports, "fsThaw", fs_thaw) ||
         gl_export_fn(env, exports, "fsTrim", fs_trim) || gl_export_fn(env, exports, "clockGetTime", clock_get_time) ||
         gl_export_fn(env, exports, "clockSetTime", clock_set_time) || gl_export_fn(env, exports, "reboot", do_reboot) ||
         gl_export_fn(env, exports, "openBeneath", open_beneath) || gl_export_fn(env, exports, "openat2Supported", openat2_supported) ||
         gl_export_int(env, exports, "LINUX_REBOOT_CMD_POWER_OFF", (int64_t)(uint32_t)LINUX_REBOOT_CMD_POWER_OFF) ||
         gl_export_int(env, exports, "LINUX_REBOOT_CMD_RESTART", (int64_t)(uint32_t)LINUX_REBOOT_CMD_RESTART) ||
         gl_export_int(env, exports, "LINUX_REBOOT_CMD_HALT", (int64_t)(uint32_t)LINUX_REBOOT_CMD_HALT);
}
