# Dependency lookup shared by the build tree and the installed anybitConfig.cmake.
# `finder` is find_package in the build tree and find_dependency in the installed config.
# No versions are pinned: Debian ships xsimd 8.1 / Highway 1.0.3, Conan and vcpkg ship newer
# majors, and both packages use SameMajorVersion configs.
include_guard(GLOBAL)
include(CMakeFindDependencyMacro)

# xsimd. Debian 12's export links a bare "xtl" item without finding it (xsimd#869); give it a
# target so consumers do not fail with "cannot find -lxtl".
macro(anybit_find_xsimd finder)
  if(NOT TARGET xsimd)
    cmake_language(CALL ${finder} xsimd CONFIG ${ARGN})
  endif()
  if(TARGET xsimd AND NOT TARGET xtl)
    get_target_property(_anybit_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
    if("xtl" IN_LIST _anybit_xsimd_links)
      find_package(xtl CONFIG QUIET)
      if(NOT TARGET xtl)
        add_library(xtl INTERFACE IMPORTED)
      endif()
    endif()
  endif()
endmacro()

# Highway, as hwy::hwy whatever its source: headers only (ANYBIT_HWY_HEADER_ONLY, for
# static-dispatch use such as cross builds), an in-tree Highway (hwy), upstream/Debian/vcpkg
# (hwy::hwy), or ConanCenter (highway::hwy, highway::highway).
macro(anybit_find_hwy finder)
  if(ANYBIT_HWY_HEADER_ONLY AND NOT TARGET hwy::hwy)
    find_path(ANYBIT_HWY_INCLUDE_DIR hwy/highway.h)
    if(ANYBIT_HWY_INCLUDE_DIR)
      add_library(hwy::hwy INTERFACE IMPORTED)
      set_target_properties(hwy::hwy PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${ANYBIT_HWY_INCLUDE_DIR}")
    endif()
  endif()
  if(NOT TARGET hwy::hwy AND TARGET hwy)
    add_library(hwy::hwy ALIAS hwy)
  endif()
  if(NOT TARGET hwy::hwy)
    find_package(hwy CONFIG QUIET)
  endif()
  if(NOT TARGET hwy::hwy)
    cmake_language(CALL ${finder} highway CONFIG ${ARGN})
    foreach(_anybit_highway_target IN ITEMS highway::hwy highway::highway)
      if(TARGET ${_anybit_highway_target} AND NOT TARGET hwy::hwy)
        add_library(hwy::hwy INTERFACE IMPORTED)
        set_target_properties(hwy::hwy PROPERTIES INTERFACE_LINK_LIBRARIES ${_anybit_highway_target})
      endif()
    endforeach()
  endif()
endmacro()
