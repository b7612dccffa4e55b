// Shared by every test: doctest with the project's configuration, and deterministic inputs.
#pragma once

// Messages are compared as std::string: DOCTEST_CONFIG_TREAT_CHAR_STAR_AS_STRING does not
// compile in Debian's doctest 2.4.9.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace anybit::test {

/// splitmix64: the same sequence on every platform and standard library.
class rng {
 public:
  explicit rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform-enough integer in [0, n) for small n (test data, not statistics).
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }

 private:
  std::uint64_t state_;
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
