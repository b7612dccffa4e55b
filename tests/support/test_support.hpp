// Shared by every test: doctest with the project's configuration, and deterministic inputs.
#pragma once

// Messages are compared as std::string: DOCTEST_CONFIG_TREAT_CHAR_STAR_AS_STRING does not
// compile in Debian's doctest 2.4.9.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "anybit/core/random.hpp"

namespace anybit::test {

/// splitmix64: the same sequence on every platform and standard library.
class rng : public splitmix64 {
 public:
  using splitmix64::splitmix64;
  /// Uniform-enough integer in [0, n) for small n (test data, not statistics).
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
};

/// A file shipped in tests/<folder>/fixtures/ (ANYBIT_TESTS_DIR is set by tests/CMakeLists.txt).
inline std::string fixture_path(const std::string& folder, const std::string& name) {
  return std::string(ANYBIT_TESTS_DIR) + "/" + folder + "/fixtures/" + name;
}

/// A scratch directory, removed at the end of the test; the random part keeps concurrent test
/// processes apart.
struct scratch_dir {
  std::filesystem::path path;
  explicit scratch_dir(const std::string& name) {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("anybit_" + name + "_" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  /// Writes `bytes` to the file `name` in the directory and returns its path.
  std::string write(const std::string& name, const std::vector<std::uint8_t>& bytes) const {
    const std::string file = (path / name).string();
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return file;
  }
};

/// `count` random codes of `bits` bits, all values reachable.
inline std::vector<std::uint8_t> random_codes(std::size_t count, int bits, std::uint64_t seed) {
  rng r(seed);
  std::vector<std::uint8_t> codes(count);
  for (auto& c : codes) c = static_cast<std::uint8_t>(r.below(1u << bits));
  return codes;
}

/// Runs `f` and returns the message of the exception of type E it throws; fails if none.
template <class E, class F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("expected an exception");
  return {};
}

}  // namespace anybit::test
