# Cross-compiling the native core and its tests for linux-arm64 with Debian's
# g++-aarch64-linux-gnu. CTest runs each test through qemu-user
# (CMAKE_CROSSCOMPILING_EMULATOR) with the cross compiler's arm64 sysroot as
# the dynamic loader's root (QEMU_LD_PREFIX). Used by scripts/test-arm64.js.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(PN_ARM64_PREFIX aarch64-linux-gnu)
find_program(CMAKE_CXX_COMPILER NAMES ${PN_ARM64_PREFIX}-g++ REQUIRED)
find_program(CMAKE_C_COMPILER NAMES ${PN_ARM64_PREFIX}-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/${PN_ARM64_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
find_program(PN_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_COMMAND} -E env QEMU_LD_PREFIX=/usr/${PN_ARM64_PREFIX} ${PN_QEMU_AARCH64})
