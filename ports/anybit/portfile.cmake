# Overlay port that builds from this checkout (two folders up), so it needs no download and
# always matches the tree it sits in. A port for the vcpkg registry would use
# vcpkg_from_github with a release tag and its SHA512 instead.
set(VCPKG_BUILD_TYPE release)  # header-only
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DANYBIT_BUILD_TESTS=OFF
    -DANYBIT_BUILD_BENCHMARKS=OFF
    -DANYBIT_BUILD_EXAMPLES=OFF
    -DANYBIT_INSTALL=ON)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME anybit CONFIG_PATH share/cmake/anybit)
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/lib" "${CURRENT_PACKAGES_DIR}/debug")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
