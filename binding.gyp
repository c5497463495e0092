{
  # node-gyp build of the same sources as CMakeLists.txt (what `npm install`
  # runs through node-gyp-build when no prebuilt binary matches).
  "targets": [
    {
      "target_name": "protonet",
      "sources": [
        "native/napi/addon.cc",
        "native/napi/bridge.cc",
        "native/napi/driven_loop.cc",
        "native/napi/handles.cc",
        "native/napi/host_fd_type.cc",
        "native/napi/read_supply.cc",
        "native/napi/udp_handles.cc",
        "native/napi/write_offload.cc",
        "native/core/address.cc",
        "native/core/errors.cc",
        "native/core/listener.cc",
        "native/core/loop.cc",
        "native/core/pool.cc",
        "native/core/read_slab.cc",
        "native/core/stream.cc",
        "native/core/udp.cc",
        "native/core/thread.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/core"
      ],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: a call into a terminating
      # environment (worker.terminate() mid-write) fails quietly instead of
      # node-addon-api's fatal "napi_throw" error.
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-O2", "-Wall", "-Wextra"],
      "cflags_cc!": ["-fno-rtti"],
      "conditions": [
        ["OS!='win'", { "sources": ["native/core/socket_ops.cc", "native/core/socket_ops_udp.cc"] }],
        # -ldl: dlsym() for driven_loop.cc (in libc itself since glibc 2.34).
        ["OS=='linux'", { "sources": ["native/core/poller_epoll.cc"], "libraries": ["-ldl"] }],
        ["OS=='mac' or OS=='freebsd' or OS=='openbsd' or OS=='netbsd'", {
          "sources": ["native/core/poller_kqueue.cc"],
          "xcode_settings": { "CLANG_CXX_LANGUAGE_STANDARD": "c++17", "MACOSX_DEPLOYMENT_TARGET": "10.15" }
        }],
        ["OS=='win'", {
          # Winsock socket calls, the IOCP/AFD poller and named pipes. The core's
          # threads are Win32 threads (thread.cc), so MSVC and mingw-w64 build the
          # same sources.
          "sources": ["native/core/poller_iocp.cc", "native/core/socket_ops_win.cc", "native/core/socket_ops_udp_win.cc", "native/core/pipe_win.cc"],
          "libraries": ["-lws2_32", "-liphlpapi"],
          "defines": ["WIN32_LEAN_AND_MEAN", "NOMINMAX", "_WIN32_WINNT=0x0A00"],
          # MSVC (what node-gyp uses on Windows): C++17, sources read as UTF-8,
          # __cplusplus reporting the real standard, and no C++ exceptions
          # (node's common.gypi sets _HAS_EXCEPTIONS=0; the core and
          # NAPI_DISABLE_CPP_EXCEPTIONS need none).
          "msvs_settings": {
            "VCCLCompilerTool": {
              "AdditionalOptions": ["/std:c++17", "/utf-8", "/Zc:__cplusplus"],
              "ExceptionHandling": 0,
              "WarningLevel": 3
            }
          }
        }]
      ]
    }
  ]
}
