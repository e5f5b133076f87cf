{
  "targets": [
    {
      "target_name": "guestlink",
      "sources": ["native/guestlink.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [["OS!='linux'", {"sources!": ["native/guestlink.c"]}]]
    }
  ]
}
