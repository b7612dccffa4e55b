# Cross-compile for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu, and run the results
# (tests, doctest discovery) under qemu-aarch64 with the cross sysroot.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)  # the arch-independent configs of header-only deps
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)

# Header-only dependencies (doctest, xsimd, Highway) come from the host's /usr/include, which
# must be searched after the aarch64 sysroot so that amd64 glibc headers never shadow it.
# After project(): make /usr/include implicit (CMake then drops it from -isystem) and add it
# with -idirafter.
set(CMAKE_PROJECT_INCLUDE "${CMAKE_CURRENT_LIST_DIR}/host-headers-after-sysroot.cmake")
