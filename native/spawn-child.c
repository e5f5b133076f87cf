// The child side of guest-exec's spawn: what runs between clone and execve (see spawn.c for why our own
// clone). The child shares the agent's memory while the agent's other threads (V8, the libuv pool) keep
// running, so it calls only raw system calls or their thin wrappers (no malloc, no locks, no stdio):
// everything it needs (argv, envp, the fds) is made before clone, by spawn.c.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn-child.h"

// The same number on every architecture since Linux 5.1's unified table; glibc 2.28's headers lack it.
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define CHILD_STACK (64 * 1024)

// Closes every fd from 3 up: close_range (Linux 5.9), else the entries of /proc/self/fd read with getdents64.
static void close_from_3(void) {
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
  int d = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d == -1) return;
  char buf[1024];
  long n;
  // The directory's offsets are fd numbers, so closing entries while reading does not skip any.
  while ((n = syscall(SYS_getdents64, d, buf, sizeof buf)) > 0) {
    for (long off = 0; off < n;) {
      unsigned short reclen;
      memcpy(&reclen, buf + off + 16, sizeof reclen);
      const char *name = buf + off + 19;
      int fd = 0, digits = 0;
      for (; *name >= '0' && *name <= '9'; name++, digits++) fd = fd * 10 + (*name - '0');
      if (digits > 0 && fd > 2 && fd != d) close(fd);
      off += reclen;
    }
  }
  close(d);
}

static int child_main(void *p) {
  child_args *a = p;
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  // SIGKILL/SIGSTOP cannot be changed and glibc's own two (32, 33) are refused: EINVAL, harmless.
  for (int s = 1; s < _NSIG; s++) sigaction(s, &dfl, NULL);
  int fd[3] = {a->fd[0], a->fd[1], a->fd[2]};
  // A source among 0..2 would be overwritten by an earlier dup2: move it up first (Node keeps 0..2 open,
  // so pipes and /dev/null land above 2 and this does not happen; it is kept for safety).
  for (int i = 0; i < 3; i++) {
    if (fd[i] < 3 && (fd[i] = fcntl(fd[i], F_DUPFD_CLOEXEC, 3)) == -1) {
      a->what = "fcntl(F_DUPFD_CLOEXEC)";
      goto fail;
    }
  }
  for (int i = 0; i < 3; i++) {
    // dup2 clears FD_CLOEXEC on the copy: 0, 1 and 2 are the only fds the program gets.
    if (dup2(fd[i], i) == -1) {
      a->what = "dup2";
      goto fail;
    }
  }
  close_from_3();
  sigset_t none;
  sigemptyset(&none);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, _NSIG / 8);
  execve(a->file, a->argv, a->envp);
  if (errno == ENOEXEC) {
    execve("/bin/sh", a->sh_argv, a->envp);
    errno = ENOEXEC;
  }
  a->what = "execve";
fail:
  a->err = errno;
  _exit(127);
}

// See spawn-child.h.
pid_t gl_start_child(child_args *a, const char **what) {
  char *stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    *what = "mmap";
    return -1;
  }
  sigset_t all, old;
  // Every signal, glibc's own included (a raw call: pthread_sigmask leaves those two out).
  memset(&all, 0xff, sizeof all);
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, &old, _NSIG / 8);
  // CLONE_VFORK: this thread resumes once the child has exec'd or exited; the stack grows down.
  pid_t pid = clone(child_main, stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, a);
  int err = errno;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, _NSIG / 8);
  munmap(stack, CHILD_STACK);
  if (pid == -1) {
    *what = "clone";
    errno = err;
    return -1;
  }
  if (a->err != 0) {
    // The child failed before or at execve and has exited with 127: reap it and report its errno.
    while (waitpid(pid, NULL, 0) == -1 && errno == EINTR) {
    }
    *what = a->what;
    errno = a->err;
    return -1;
  }
  return pid;
}
