// guestlink's native addon: the few Linux syscalls Node has no binding for (FIFREEZE/FITHAW/FITRIM
// ioctls, clock_gettime/clock_settime, reboot, SIGIO ownership of an fd). Plain N-API (C), built by node-gyp
// from binding.gyp.
// Every failure throws an Error whose message is strerror(errno) and whose code is the errno name.
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
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

// fdSetAsync(fd, on = true): on makes the fd non-blocking and has the kernel send SIGIO to this process when it
// becomes readable or its peer changes state (F_SETOWN(getpid()), then O_ASYNC|O_NONBLOCK); off clears both
// flags. The caller must handle SIGIO before turning it on (its default action ends the process). Nothing is
// changed when F_SETOWN fails; F_SETFL changes both flags at once.
static napi_value fd_set_async(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  int fd;
  bool on = true;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "guestlink addon: missing arguments");
    return NULL;
  }
  if (get_fd(env, argv[0], &fd)) return NULL;
  if (argc > 1) {
    napi_valuetype t;
    CHECK(napi_typeof(env, argv[1], &t));
    if (t != napi_undefined) CHECK(napi_get_value_bool(env, argv[1], &on));
  }
  if (on && fcntl(fd, F_SETOWN, getpid()) == -1) return throw_errno(env, errno, "fcntl(F_SETOWN)");
  int fl = fcntl(fd, F_GETFL);
  if (fl == -1) return throw_errno(env, errno, "fcntl(F_GETFL)");
  fl = on ? (fl | O_ASYNC | O_NONBLOCK) : (fl & ~(O_ASYNC | O_NONBLOCK));
  if (fcntl(fd, F_SETFL, fl) == -1) return throw_errno(env, errno, "fcntl(F_SETFL)");
  napi_value undef;
  CHECK(napi_get_undefined(env, &undef));
  return undef;
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

static napi_value init(napi_env env, napi_value exports) {
  if (export_fn(env, exports, "fsFreeze", fs_freeze) || export_fn(env, exports, "fsThaw", fs_thaw) ||
      export_fn(env, exports, "fsTrim", fs_trim) || export_fn(env, exports, "clockGetTime", clock_get_time) ||
      export_fn(env, exports, "clockSetTime", clock_set_time) || export_fn(env, exports, "reboot", do_reboot) ||
      export_fn(env, exports, "strerror", str_error) || export_fn(env, exports, "fdSetAsync", fd_set_async) ||
      export_int(env, exports, "LINUX_REBOOT_CMD_POWER_OFF", (int64_t)(uint32_t)LINUX_REBOOT_CMD_POWER_OFF) ||
      export_int(env, exports, "LINUX_REBOOT_CMD_RESTART", (int64_t)(uint32_t)LINUX_REBOOT_CMD_RESTART) ||
      export_int(env, exports, "LINUX_REBOOT_CMD_HALT", (int64_t)(uint32_t)LINUX_REBOOT_CMD_HALT)) {
    napi_throw_error(env, "EINTERNAL", "guestlink addon: cannot build exports");
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
