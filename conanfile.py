import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class AnybitConan(ConanFile):
    name = "anybit"
    version = "0.1.0"  # keep in step with include/anybit/version.hpp
    license = "MIT"
    description = "Header-only C++17 library for low-precision (1..8-bit) neural-network arithmetic"
    topics = ("quantization", "bit-serial", "simd", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"with_xsimd": [True, False], "with_highway": [True, False]}
    default_options = {"with_xsimd": True, "with_highway": True}
    exports_sources = "include/*", "CMakeLists.txt", "cmake/*", "LICENSE"
    no_copy_source = True

    def layout(self):
        basic_layout(self, src_folder=".")

    def requirements(self):
        # Header-only: direct dependencies are transitive for consumers.
        if self.options.with_xsimd:
            self.requires("xsimd/[>=8.1 <15]")
        if self.options.with_highway:
            self.requires("highway/[>=1.0.3 <2]")

    def package_id(self):
        # Options change the dependency set, so they stay in the id; settings do not matter.
        self.info.settings.clear()

    def validate(self):
        check_min_cppstd(self, 17)

    def build(self):
        pass

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"),
             os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "anybit")
        self.cpp_info.set_property("cmake_target_name", "anybit::anybit")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        # The same definitions the CMake target carries.
        if self.options.with_xsimd:
            self.cpp_info.defines.append("ANYBIT_HAS_XSIMD=1")
        if self.options.with_highway:
            self.cpp_info.defines.append("ANYBIT_HAS_HWY=1")
