// A listening unix socket and its accepted connections, for the unix-listen transport (see guestlink.h).
// Node's net.Server could listen, but the sockets it accepts read each chunk into a Buffer of its own (it
// takes no `onread` buffer), and listen() loads node:cluster with dgram and child_process; a socket made
// from an fd (`new net.Socket({fd, onread})`) reads into one buffer. So the agent listens and accepts here,
// watched by fdWatch (readiness.c), and gives each accepted fd to node:net.
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "guestlink.h"

// unixListen(path, mode, backlog) -> fd: a non-blocking, close-on-exec AF_UNIX stream socket bound to path
// and listening. The socket's mode is set before bind(): Linux creates the file with the socket inode's
// mode less the umask, so the file never allows more than `mode` (no window between bind and a chmod in
// which a host could connect through a wider mode). Throws ENAMETOOLONG for a path that does not fit in
// sun_path (107 bytes), EADDRINUSE when the path exists; on any failure nothing is left open (a file bind()
// made stays, for the caller to remove).
static napi_value unix_listen_js(napi_env env, napi_callback_info info) {
  napi_value argv[3], out;
  uint32_t mode, backlog;
  if (gl_get_args(env, info, 3, argv) || gl_get_u32(env, argv[1], &mode) || gl_get_u32(env, argv[2], &backlog)) return NULL;
  char *path = gl_get_string(env, argv[0]);
  if (path == NULL) return NULL;
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof addr.sun_path) {
    free(path);
    return gl_throw_errno(env, len == 0 ? ENOENT : ENAMETOOLONG, "bind");
  }
  memcpy(addr.sun_path, path, len + 1);
  free(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd == -1) return gl_throw_errno(env, errno, "socket");
  const char *what = NULL;
  if (fchmod(fd, mode & 07777) == -1) what = "fchmod";
  else if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == -1) what = "bind";
  else if (listen(fd, backlog > 4096 ? 4096 : (int)backlog) == -1) what = "listen";
  if (what != NULL) {
    int err = errno;
    close(fd);
    return gl_throw_errno(env, err, what);
  }
  CHECK(napi_create_int32(env, fd, &out));
  return out;
}

// unixAccept(fd) -> a connection's fd (non-blocking, close-on-exec), or -errno (-EAGAIN: none waiting). Never
// throws for the syscall: a drain of the backlog ends in EAGAIN every time.
static napi_value unix_accept_js(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  int fd, c;
  if (gl_get_args(env, info, 1, argv) || gl_get_fd(env, argv[0], &fd)) return NULL;
  do c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (c == -1 && errno == EINTR);
  CHECK(napi_create_int32(env, c == -1 ? -errno : c, &out));
  return out;
}

int gl_init_unix_socket(napi_env env, napi_value exports) {
  return gl_export_fn(env, exports, "unixListen", unix_listen_js) || gl_export_fn(env, exports, "unixAccept", unix_accept_js);
}
