{
  # node-gyp build of the same sources as CMakeLists.txt (what `npm install`
  # runs through node-gyp-build when no prebuilt binary matches).
  "targets": [
    {
      "target_name": "protonet",
      "sources": [
        "native/napi/addon.cc",
        "native/napi/bridge.cc",
        "native/napi/handles.cc",
        "native/core/address.cc",
        "native/core/errors.cc",
        "native/core/listener.cc",
        "native/core/loop.cc",
        "native/core/pool.cc",
        "native/core/read_slab.cc",
        "native/core/socket_ops.cc",
        "native/core/tcp.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/core"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-O2", "-Wall", "-Wextra"],
      "cflags_cc!": ["-fno-rtti"],
      "conditions": [
        ["OS=='linux'", { "sources": ["native/core/poller_epoll.cc"] }],
        ["OS=='mac' or OS=='freebsd' or OS=='openbsd' or OS=='netbsd'", {
          "sources": ["native/core/poller_kqueue.cc"],
          "xcode_settings": { "CLANG_CXX_LANGUAGE_STANDARD": "c++17", "MACOSX_DEPLOYMENT_TARGET": "10.15" }
        }],
        ["OS=='win'", { "sources": ["native/core/poller_iocp.cc"] }]
      ]
    }
  ]
}
