// Starting guest-exec's programs without copying the agent's page tables (see guestlink.h for the layout).
//
// libuv starts a child with a plain fork: the kernel copies the page tables of a 50-60 MB process, 1.6-3.5 ms
// from clone to execve (docs/benchmarks.md, "guest-exec round trip"). Here the child shares the agent's
// memory until it execs: clone(CLONE_VM|CLONE_VFORK), as glibc's posix_spawn does. Our own clone rather than
// posix_spawn because the child must close every fd above 2 (qemu-ga's g_spawn does; a non-CLOEXEC fd the agent
// inherited or opened must not reach a program the hypervisor asked for), and posix_spawn's way to do that,
// posix_spawn_file_actions_addclosefrom_np, needs glibc 2.34: the addon's floor is 2.28.
//
// The child's side (spawn-child.c) shares the agent's memory while the agent's other threads keep running,
// so it calls only raw system calls: everything it needs (argv, envp, the fds) is made here before clone. The
// calling thread blocks every signal around clone, so no
// handler of the agent runs on the child's stack; the child sets every disposition to SIG_DFL (Node ignores
// SIGPIPE, and an ignored signal would stay ignored across exec) and then clears its mask, as libuv does.
//
// The exit is watched through a pidfd (pidfd_open, Linux 5.3, called through syscall(): glibc 2.36 has the
// wrapper, the floor does not) that libuv polls; it becomes readable once the child ends, and waitid(WNOHANG)
// reaps it then. libuv only reaps the pids it spawned itself (its SIGCHLD handler waits for those pids), so
// these are ours to reap. The poll handle is unref()-ed: a running program does not keep the agent alive
// (qemu-ga leaves its children too).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "guestlink.h"
#include "spawn-child.h"

// The same number on every architecture since Linux 5.1's unified table; glibc 2.28's headers lack it.
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

// One running child's exit watch: the pidfd libuv polls, and the callback to call once with (code, signal).
typedef struct {
  uv_poll_t poll;
  int pidfd;
  pid_t pid;
  gl_js_callback cb;
} exit_watch;

static void exit_watch_closed(uv_handle_t *h) {
  exit_watch *w = h->data;
  close(w->pidfd);
  gl_js_callback_release(&w->cb);
  free(w);
}

static void exit_ready(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  exit_watch *w = h->data;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  do rc = waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG);
  while (rc == -1 && errno == EINTR);
  // Readable only once the child has ended; a wake-up before that (si_pid 0) waits for the next.
  if (rc == 0 && si.si_pid == 0) return;
  uv_poll_stop(&w->poll);
  napi_env env = w->cb.env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) == napi_ok) {
    napi_value args[2];
    // ECHILD (someone else reaped it) reports neither code nor signal.
    int exited = rc == 0 && si.si_code == CLD_EXITED, killed = rc == 0 && (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED);
    if ((exited ? napi_create_int32(env, si.si_status, &args[0]) : napi_get_null(env, &args[0])) == napi_ok &&
        (killed ? napi_create_int32(env, si.si_status, &args[1]) : napi_get_null(env, &args[1])) == napi_ok)
      gl_js_callback_call(&w->cb, 2, args);
    napi_close_handle_scope(env, scope);
  }
  uv_close((uv_handle_t *)&w->poll, exit_watch_closed);
}

// Frees a NULL-terminated array of strings made by string_array.
static void free_strings(char **v) {
  if (v == NULL) return;
  for (char **p = v; *p != NULL; p++) free(*p);
  free(v);
}

// A JS array of strings as a NULL-terminated array of malloc'd C strings; throws (and returns NULL) otherwise.
static char **string_array(napi_env env, napi_value arr) {
  bool is_array;
  uint32_t n;
  if (napi_is_array(env, arr, &is_array) != napi_ok || !is_array || napi_get_array_length(env, arr, &n) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "guestlink addon: expected an array of strings");
    return NULL;
  }
  char **v = calloc((size_t)n + 1, sizeof *v);
  if (v == NULL) {
    gl_throw_errno(env, ENOMEM, "malloc");
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) != napi_ok || (v[i] = gl_get_string(env, e)) == NULL) {
      free_strings(v);
      return NULL;
    }
  }
  return v;
}

static void close_fds(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

// Watches pid's exit through a pidfd; 0, or an errno (the child is then still running and unwatched).
static int watch_exit(napi_env env, pid_t pid, napi_value cb) {
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return EINVAL;
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd == -1) return errno;
  exit_watch *w = calloc(1, sizeof *w);
  if (w == NULL) {
    close(pidfd);
    return ENOMEM;
  }
  w->pidfd = pidfd;
  w->pid = pid;
  if (gl_js_callback_init(env, cb, "guestlink:spawn", &w->cb) != 0) {
    close(pidfd);
    free(w);
    return ENOMEM;
  }
  int rc = uv_poll_init(loop, &w->poll, pidfd);
  if (rc == 0) {
    w->poll.data = w;
    rc = uv_poll_start(&w->poll, UV_READABLE, exit_ready);
    if (rc != 0) {
      uv_close((uv_handle_t *)&w->poll, exit_watch_closed);
      return -rc;
    }
    uv_unref((uv_handle_t *)&w->poll);
    return 0;
  }
  gl_js_callback_release(&w->cb);
  close(pidfd);
  free(w);
  return -rc;
}

// spawn(file, argv, envp, pipes, onExit) -> {pid, stdin, stdout, stderr}: starts `file` with exactly argv
// (argv[0] included) and envp, no shell, no search. pipes: bit 0 stdin, bit 1 stdout, bit 2 stderr get a pipe
// (the agent's end returned, O_CLOEXEC); the others are /dev/null (-1 returned). onExit(code, signal) runs on
// the event loop once the child has ended and been reaped. Throws an errno error (ENOENT, EACCES, ENOEXEC...)
// when the program cannot start; then nothing is left running or open.
static napi_value spawn_js(napi_env env, napi_callback_info info) {
  napi_value argv[5], out, v;
  uint32_t pipes;
  napi_valuetype t;
  if (gl_get_args(env, info, 5, argv) || gl_get_u32(env, argv[3], &pipes)) return NULL;
  CHECK(napi_typeof(env, argv[4], &t));
  if (t != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "guestlink addon: spawn needs an exit callback");
    return NULL;
  }
  child_args a = {.fd = {-1, -1, -1}};
  // ours[i]: the agent's end of stream i's pipe; theirs[i]: what becomes the child's fd i (closed here after).
  int ours[3] = {-1, -1, -1}, theirs[3] = {-1, -1, -1}, devnull = -1, reserve = -1, err = 0;
  const char *what = NULL;
  napi_value result = NULL;
  char *file = gl_get_string(env, argv[0]);
  char **args = file ? string_array(env, argv[1]) : NULL;
  char **envp = args ? string_array(env, argv[2]) : NULL;
  char **sh = NULL;
  if (envp == NULL) goto done;
  if (args[0] == NULL) {
    err = EINVAL, what = "spawn: empty argv";
    goto done;
  }
  // sh = {"/bin/sh", file, argv[1..]}, borrowing the strings (only the array is freed).
  size_t argc = 0;
  while (args[argc] != NULL) argc++;
  if ((sh = calloc(argc + 2, sizeof *sh)) == NULL) {
    err = ENOMEM, what = "malloc";
    goto done;
  }
  sh[0] = (char *)"/bin/sh";
  sh[1] = file;
  for (size_t i = 1; i < argc; i++) sh[i + 1] = args[i];
  for (int i = 0; i < 3; i++) {
    if (pipes & (1U << i)) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) == -1) {
        err = errno, what = "pipe2";
        goto done;
      }
      // stdin: the child reads p[0]; stdout/stderr: the child writes p[1].
      ours[i] = i == 0 ? p[1] : p[0];
      theirs[i] = i == 0 ? p[0] : p[1];
    } else {
      if (devnull == -1 && (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
        err = errno, what = "open(/dev/null)";
        goto done;
      }
      a.fd[i] = devnull;
    }
    if (theirs[i] >= 0) a.fd[i] = theirs[i];
  }
  // An fd held back for the pidfd, so a full fd table fails here, before the program runs, not after.
  if ((reserve = fcntl(a.fd[0], F_DUPFD_CLOEXEC, 3)) == -1) {
    err = errno, what = "fcntl(F_DUPFD_CLOEXEC)";
    goto done;
  }
  a.file = file;
  a.argv = args;
  a.sh_argv = sh;
  a.envp = envp;
  pid_t pid = gl_start_child(&a, &what);
  if (pid == -1) {
    err = errno;
    goto done;
  }
  close(reserve);
  reserve = -1;
  if ((err = watch_exit(env, pid, argv[4])) != 0) {
    // Unwatched, the child could never be reaped: end it now and report the start as failed.
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) == -1 && errno == EINTR) {
    }
    what = "pidfd_open";
    goto done;
  }
  if (napi_create_object(env, &out) != napi_ok || napi_create_int32(env, pid, &v) != napi_ok ||
      napi_set_named_property(env, out, "pid", v) != napi_ok)
    goto internal;
  static const char *names[3] = {"stdin", "stdout", "stderr"};
  for (int i = 0; i < 3; i++) {
    if (napi_create_int32(env, ours[i], &v) != napi_ok || napi_set_named_property(env, out, names[i], v) != napi_ok) goto internal;
  }
  // Handed over to JS: not closed below.
  ours[0] = ours[1] = ours[2] = -1;
  result = out;
  goto done;
internal:
  // The child runs and is watched; only its pipes are lost (closed below): it sees EPIPE/EOF.
  napi_throw_error(env, "EINTERNAL", "guestlink addon: spawn: N-API call failed");
done:
  close_fds(ours, 3);
  close_fds(theirs, 3);
  if (devnull >= 0) close(devnull);
  if (reserve >= 0) close(reserve);
  free(file);
  free_strings(args);
  free_strings(envp);
  free(sh);
  if (err != 0) gl_throw_errno(env, err, what);
  return result;
}

// pidfdSupported() -> whether this kernel has pidfd_open (Linux 5.3); without it spawn cannot watch an exit
// and the caller uses node:child_process instead.
static napi_value pidfd_supported_js(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (fd >= 0) close(fd);
  // A full fd table now says nothing about the kernel; anything else (ENOSYS, a seccomp EPERM) will not change.
  CHECK(napi_get_boolean(env, fd >= 0 || errno == EMFILE || errno == ENFILE, &out));
  return out;
}

int gl_init_spawn(napi_env env, napi_value exports) {
  return gl_export_fn(env, exports, "spawn", spawn_js) || gl_export_fn(env, exports, "pidfdSupported", pidfd_supported_js);
}
