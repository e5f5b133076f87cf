// The addon's entry point, and the N-API helpers every part uses (see guestlink.h for the layout).
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guestlink.h"

// The errno's symbolic name, as Node names system errors (err.code). A table rather than glibc's
// strerrorname_np, which needs glibc 2.32: without it the addon loads on glibc 2.28 (Debian 10, RHEL 8).
static const char *errno_name(int err) {
  switch (err) {
#define NAME(e) \
  case e:       \
    return #e;
    NAME(EPERM) NAME(ENOENT) NAME(ESRCH) NAME(EINTR) NAME(EIO) NAME(ENXIO) NAME(E2BIG) NAME(ENOEXEC) NAME(EBADF)
    NAME(ECHILD) NAME(EAGAIN) NAME(ENOMEM) NAME(EACCES) NAME(EFAULT) NAME(EBUSY) NAME(EEXIST) NAME(EXDEV) NAME(ENODEV)
    NAME(ENOTDIR) NAME(EISDIR) NAME(EINVAL) NAME(ENFILE) NAME(EMFILE) NAME(ENOTTY) NAME(ETXTBSY) NAME(EFBIG) NAME(ENOSPC)
    NAME(ESPIPE) NAME(EROFS) NAME(EMLINK) NAME(EPIPE) NAME(ERANGE) NAME(ENAMETOOLONG) NAME(ENOSYS) NAME(ENOTEMPTY)
    NAME(ELOOP) NAME(EOPNOTSUPP) NAME(EAFNOSUPPORT) NAME(EADDRINUSE) NAME(EADDRNOTAVAIL) NAME(ENETUNREACH) NAME(ECONNRESET)
    NAME(ENOBUFS) NAME(EISCONN) NAME(ENOTCONN) NAME(ETIMEDOUT) NAME(ECONNREFUSED) NAME(EHOSTUNREACH) NAME(EALREADY)
    NAME(EINPROGRESS) NAME(ENOTSOCK) NAME(EPROTONOSUPPORT) NAME(ECANCELED) NAME(EDQUOT) NAME(ESTALE)
#undef NAME
    default:
      return "EUNKNOWN";
  }
}

napi_value gl_errno_error(napi_env env, int err, const char *syscall) {
  napi_value msg, code, error, num, sc;
  if (napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &msg) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code) != napi_ok) return NULL;
  if (napi_create_error(env, code, msg, &error) != napi_ok) return NULL;
  if (napi_create_int32(env, err, &num) == napi_ok) napi_set_named_property(env, error, "errno", num);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc) == napi_ok) napi_set_named_property(env, error, "syscall", sc);
  return error;
}

napi_value gl_throw_errno(napi_env env, int err, const char *syscall) {
  napi_value error = gl_errno_error(env, err, syscall);
  if (error != NULL) napi_throw(env, error);
  return NULL;
}

int gl_get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  if (argc < want) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "guestlink addon: missing arguments");
    return -1;
  }
  return 0;
}

int gl_get_fd(napi_env env, napi_value v, int *fd) {
  if (napi_get_value_int32(env, v, fd) != napi_ok || *fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "guestlink addon: fd must be a non-negative integer");
    return -1;
  }
  return 0;
}

int gl_get_i64(napi_env env, napi_value v, int64_t *out) {
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

int gl_get_u32(napi_env env, napi_value v, uint32_t *out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "guestlink addon: expected a 32-bit unsigned integer");
    return -1;
  }
  return 0;
}

char *gl_get_string(napi_env env, napi_value v) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "guestlink addon: expected a string");
    return NULL;
  }
  char *s = malloc(len + 1);
  if (s == NULL) {
    gl_throw_errno(env, ENOMEM, "malloc");
    return NULL;
  }
  if (napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    napi_throw_error(env, "EINTERNAL", "guestlink addon: cannot read a string argument");
    return NULL;
  }
  // A NUL inside would silently cut the string short for every C call it goes to.
  if (strlen(s) != len) {
    free(s);
    gl_throw_errno(env, EINVAL, "string with a NUL byte");
    return NULL;
  }
  return s;
}

napi_value gl_undefined(napi_env env) {
  napi_value undef;
  CHECK(napi_get_undefined(env, &undef));
  return undef;
}

int gl_js_callback_init(napi_env env, napi_value fn, const char *name, gl_js_callback *cb) {
  napi_value n;
  cb->env = env;
  cb->fn = NULL;
  if (napi_create_reference(env, fn, 1, &cb->fn) != napi_ok || napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &n) != napi_ok ||
      napi_async_init(env, NULL, n, &cb->ctx) != napi_ok) {
    if (cb->fn) napi_delete_reference(env, cb->fn);
    return -1;
  }
  return 0;
}

void gl_js_callback_release(gl_js_callback *cb) {
  napi_delete_reference(cb->env, cb->fn);
  napi_async_destroy(cb->env, cb->ctx);
}

void gl_js_callback_call(gl_js_callback *cb, size_t argc, const napi_value *argv) {
  napi_env env = cb->env;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, cb->fn, &fn) != napi_ok || fn == NULL || napi_get_global(env, &recv) != napi_ok) return;
  if (napi_make_callback(env, cb->ctx, recv, fn, argc, argv, &result) != napi_ok) {
    bool pending = false;
    napi_value err;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending && napi_get_and_clear_last_exception(env, &err) == napi_ok)
      napi_fatal_exception(env, err);
  }
}

int gl_export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) != napi_ok) return -1;
  return napi_set_named_property(env, exports, name, fn) == napi_ok ? 0 : -1;
}

int gl_export_int(napi_env env, napi_value exports, const char *name, int64_t v) {
  napi_value n;
  if (napi_create_int64(env, v, &n) != napi_ok) return -1;
  return napi_set_named_property(env, exports, name, n) == napi_ok ? 0 : -1;
}

// strerror(errno) -> the C library's text, as qemu-ga prints it.
static napi_value str_error(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  int32_t err;
  if (gl_get_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_int32(env, argv[0], &err) != napi_ok) err = 0;
  CHECK(napi_create_string_utf8(env, strerror(err < 0 ? -err : err), NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  if (gl_export_fn(env, exports, "strerror", str_error) || gl_init_fs(env, exports) || gl_init_readiness(env, exports) || gl_init_spawn(env, exports)
      || gl_init_unix_socket(env, exports)
#if defined(__x86_64__) || defined(__i386__)
      // The VMware backdoor and CPUID are x86 only (binding.gyp leaves vmware.c out elsewhere).
      || gl_init_vmware(env, exports)
#endif
  ) {
    napi_throw_error(env, "EINTERNAL", "guestlink addon: cannot build exports");
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
