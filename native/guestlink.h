// guestlink's native addon: the few Linux syscalls Node has no binding for, one file per concept:
//   fs.c         FIFREEZE/FITHAW/FITRIM, clock_gettime/clock_settime, reboot(2), and the file opener that
//                never leaves an allow-listed directory (openat2 RESOLVE_BENEATH, else an openat walk);
//   readiness.c  edge-triggered readiness of an fd without signals, and read/write returning -errno;
//   unix-socket.c the unix-listen transport's listening socket and its accept4 (connections go to node:net);
//   vmware.c     the CPUID hypervisor vendor, the VMware backdoor's `in` instruction, AF_VSOCK sockets;
//   spawn.c      guest-exec's programs started with clone(CLONE_VM|CLONE_VFORK), their exits watched by pidfd
//                (spawn-child.c: the child's side, from clone to execve);
//   init.c       the module's entry point and the N-API helpers below, shared by the others.
// Plain N-API (C), built by node-gyp from binding.gyp. Every failure throws (or rejects with) an Error
// whose message is strerror(errno) and whose code is the errno name, except fdRead/fdWrite/unixAccept, which
// return -errno (a non-blocking drain ends in EAGAIN every time).
#ifndef GUESTLINK_H
#define GUESTLINK_H

#include <node_api.h>
#include <stdint.h>

// Throws EINTERNAL and returns NULL from the calling function when an N-API call fails.
#define CHECK(call)                                                                     \
  do {                                                                                  \
    if ((call) != napi_ok) {                                                            \
      napi_throw_error(env, "EINTERNAL", "guestlink addon: N-API call failed: " #call); \
      return NULL;                                                                      \
    }                                                                                   \
  } while (0)

// An Error(strerror(err)) with .code = errno name, .errno = err and .syscall; NULL if it cannot be made.
napi_value gl_errno_error(napi_env env, int err, const char *syscall);
// Throws gl_errno_error(); returns NULL for the caller to return.
napi_value gl_throw_errno(napi_env env, int err, const char *syscall);
// Reads `want` arguments into argv; throws (and returns -1) when fewer were passed.
int gl_get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
// A non-negative int32 file descriptor; throws (and returns -1) otherwise.
int gl_get_fd(napi_env env, napi_value v, int *fd);
// A number or bigint as int64; throws (and returns -1) otherwise.
int gl_get_i64(napi_env env, napi_value v, int64_t *out);
// An unsigned 32-bit number; throws (and returns -1) otherwise.
int gl_get_u32(napi_env env, napi_value v, uint32_t *out);
// A string argument as a malloc'd UTF-8 C string (the caller frees it); throws (and returns NULL) otherwise,
// also for a string with a NUL byte inside (EINVAL).
char *gl_get_string(napi_env env, napi_value v);
// `undefined`, for functions that return nothing.
napi_value gl_undefined(napi_env env);
// A JS function a libuv watch calls back: the function's reference and its async context, held together.
typedef struct {
  napi_env env;
  napi_ref fn;
  napi_async_context ctx;
} gl_js_callback;
// Holds fn (async resource `name`); 0, or -1 with nothing held.
int gl_js_callback_init(napi_env env, napi_value fn, const char *name, gl_js_callback *cb);
// Lets go of what gl_js_callback_init held.
void gl_js_callback_release(gl_js_callback *cb);
// Calls it from a libuv callback (inside a handle scope the caller opened) with the global as `this`; an
// exception it throws becomes the process's uncaught exception, as from any other event.
void gl_js_callback_call(gl_js_callback *cb, size_t argc, const napi_value *argv);
// exports[name] = a function calling cb; 0 on success.
int gl_export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb);
// exports[name] = v; 0 on success.
int gl_export_int(napi_env env, napi_value exports, const char *name, int64_t v);

// Each part adds its functions to the module's exports; 0 on success.
int gl_init_fs(napi_env env, napi_value exports);
int gl_init_readiness(napi_env env, napi_value exports);
int gl_init_vmware(napi_env env, napi_value exports);
int gl_init_spawn(napi_env env, napi_value exports);
int gl_init_unix_socket(napi_env env, napi_value exports);

#endif
