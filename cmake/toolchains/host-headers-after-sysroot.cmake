# Included after project() by cross toolchains: see aarch64-linux-gnu.cmake.
list(APPEND CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES /usr/include)
string(APPEND CMAKE_CXX_FLAGS " -idirafter /usr/include")
if(NOT DEFINED ANYBIT_HWY_INCLUDE_DIR AND EXISTS /usr/include/hwy/highway.h)
  set(ANYBIT_HWY_INCLUDE_DIR /usr/include CACHE PATH "Highway headers (host copy, arch-independent)")
endif()
