// Readiness of an fd without signals, for the virtio-serial port (see guestlink.h for the layout).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <uv.h>

#include "guestlink.h"

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
  gl_js_callback cb;
  int stopped;
  // The struct is freed once libuv has closed the handle and JS can no longer reach the external (both).
  int closed;
  int finalized;
} fd_watch;

static void watch_closed(uv_handle_t *h) {
  fd_watch *w = h->data;
  close(w->epfd);
  gl_js_callback_release(&w->cb);
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
  napi_env env = w->cb.env;
  struct epoll_event ev[2];
  // Consumes the pending edge, so the epoll fd is no longer readable until the next one.
  while (epoll_wait(w->epfd, ev, 2, 0) == -1 && errno == EINTR) {
  }
  if (w->stopped) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  gl_js_callback_call(&w->cb, 0, NULL);
  napi_close_handle_scope(env, scope);
}

static napi_value fd_watch_js(napi_env env, napi_callback_info info) {
  napi_value argv[2], out;
  int fd;
  napi_valuetype t;
  if (gl_get_args(env, info, 2, argv) || gl_get_fd(env, argv[0], &fd)) return NULL;
  CHECK(napi_typeof(env, argv[1], &t));
  if (t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "guestlink addon: fdWatch needs a callback");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd == -1) return gl_throw_errno(env, errno, "epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data = {.fd = fd}};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
    int err = errno;
    close(epfd);
    return gl_throw_errno(env, err, "epoll_ctl");
  }
  fd_watch *w = calloc(1, sizeof *w);
  if (w == NULL) {
    close(epfd);
    return gl_throw_errno(env, ENOMEM, "fdWatch");
  }
  w->epfd = epfd;
  if (gl_js_callback_init(env, argv[1], "guestlink:fdWatch", &w->cb) != 0) {
    close(epfd);
    free(w);
    napi_throw_error(env, "EINTERNAL", "guestlink addon: fdWatch: N-API call failed");
    return NULL;
  }
  int rc = uv_poll_init(loop, &w->poll, epfd);
  if (rc != 0) {
    gl_js_callback_release(&w->cb);
    close(epfd);
    free(w);
    return gl_throw_errno(env, -rc, "uv_poll_init");
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
    return gl_throw_errno(env, err, what);
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
  if (gl_get_args(env, info, 1, argv)) return NULL;
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
  if (gl_get_args(env, info, 2, argv) || gl_get_fd(env, argv[0], &fd)) return NULL;
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
  if (gl_get_args(env, info, 4, argv) || gl_get_fd(env, argv[0], &fd)) return NULL;
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  if (gl_get_i64(env, argv[2], &off) || gl_get_i64(env, argv[3], &n)) return NULL;
  if (off < 0 || n < 0 || (uint64_t)off > len || (uint64_t)n > len - (uint64_t)off) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "guestlink addon: fdWrite: offset/length outside the buffer");
    return NULL;
  }
  ssize_t w;
  do w = write(fd, (char *)data + off, (size_t)n);
  while (w == -1 && errno == EINTR);
  return io_result(env, w);
}

int gl_init_readiness(napi_env env, napi_value exports) {
  return gl_export_fn(env, exports, "fdWatch", fd_watch_js) || gl_export_fn(env, exports, "fdUnwatch", fd_unwatch_js) ||
         gl_export_fn(env, exports, "fdRead", fd_read_js) || gl_export_fn(env, exports, "fdWrite", fd_write_js);
}
