// The child side of guest-exec's spawn (spawn-child.c), shared with spawn.c, which builds its arguments
// and watches its exit. Internal to the addon; guestlink.h is the addon's own interface.
#ifndef GUESTLINK_SPAWN_CHILD_H
#define GUESTLINK_SPAWN_CHILD_H

#include <sys/types.h>

// What the child needs, all made before clone; err/what are written by the child (shared memory) when it fails.
typedef struct {
  const char *file;
  char **argv;
  // {"/bin/sh", file, argv[1..]}: a file without a #! line is run by the shell, as glibc's execvp (libuv's
  // children) and glib's g_spawn (qemu-ga's) both do on ENOEXEC.
  char **sh_argv;
  char **envp;
  int fd[3];
  volatile int err;
  const char *volatile what;
} child_args;

// Starts the child (clone with CLONE_VM|CLONE_VFORK); returns its pid, or -1 with *what set and errno.
pid_t gl_start_child(child_args *a, const char **what);

#endif
