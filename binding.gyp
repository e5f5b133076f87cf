{
  "targets": [
    {
      "target_name": "guestlink",
      "sources": ["native/init.c", "native/fs.c", "native/readiness.c", "native/unix-socket.c", "native/spawn.c", "native/spawn-child.c", "native/vmware.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS!='linux'", {"sources!": ["native/init.c", "native/fs.c", "native/readiness.c", "native/unix-socket.c", "native/spawn.c", "native/spawn-child.c", "native/vmware.c"]}],
        ["target_arch!='x64' and target_arch!='ia32'", {"sources!": ["native/vmware.c"]}]
      ]
    }
  ]
}
