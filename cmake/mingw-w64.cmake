# Cross-compiling the native core and its tests for 64-bit Windows with
# mingw-w64 (Debian: g++-mingw-w64-x86-64). The posix-threads flavour of the
# compiler is used: its libstdc++ has std::thread/std::mutex on winpthreads.
# Used by scripts/test-windows.js (the tests then run under wine) and
# scripts/build-windows.js (the addon).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(PN_MINGW_PREFIX x86_64-w64-mingw32)
find_program(CMAKE_CXX_COMPILER NAMES ${PN_MINGW_PREFIX}-g++-posix ${PN_MINGW_PREFIX}-g++ REQUIRED)
find_program(CMAKE_C_COMPILER NAMES ${PN_MINGW_PREFIX}-gcc-posix ${PN_MINGW_PREFIX}-gcc)
find_program(CMAKE_RC_COMPILER NAMES ${PN_MINGW_PREFIX}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${PN_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# Self-contained .exe files: no libgcc/libstdc++/libwinpthread DLLs to ship
# next to them (or for wine to miss).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
# The same for the addon (scripts/build-windows.js): a .node file that needs
# only Windows' own DLLs and node.exe.
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
