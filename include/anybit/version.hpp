// anybit/version.hpp — the library version. CMakeLists.txt reads it from here, so this is the
// only place it is written.
#pragma once

#define ANYBIT_VERSION_MAJOR 0
#define ANYBIT_VERSION_MINOR 1
#define ANYBIT_VERSION_PATCH 0

#define ANYBIT_DETAIL_STR2(x) #x
#define ANYBIT_DETAIL_STR(x) ANYBIT_DETAIL_STR2(x)

namespace anybit {
inline constexpr const char* version_string = ANYBIT_DETAIL_STR(ANYBIT_VERSION_MAJOR) "." ANYBIT_DETAIL_STR(
    ANYBIT_VERSION_MINOR) "." ANYBIT_DETAIL_STR(ANYBIT_VERSION_PATCH);
}  // namespace anybit
