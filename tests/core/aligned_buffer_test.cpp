#include <cstdint>

#include "anybit/core/aligned_buffer.hpp"
#include "support/test_support.hpp"

using anybit::aligned_buffer;

TEST_CASE("aligned_buffer is 64-byte aligned and zero-initialised") {
  for (std::size_t n : {1u, 7u, 64u, 1000u}) {
    aligned_buffer<std::uint64_t> buf(n);
    CHECK(reinterpret_cast<std::uintptr_t>(buf.data()) % 64 == 0);
    REQUIRE(buf.size() == n);
    for (std::size_t i = 0; i < n; ++i) CHECK(buf[i] == 0);
  }
  aligned_buffer<float> empty;
  CHECK(empty.size() == 0);
  CHECK(empty.data() == nullptr);
}

TEST_CASE("aligned_buffer copies are deep and moves transfer ownership") {
  aligned_buffer<int> a(5);
  for (int i = 0; i < 5; ++i) a[i] = i * i;
  aligned_buffer<int> b = a;
  b[2] = -1;
  CHECK(a[2] == 4);
  CHECK(b[4] == 16);
  const int* storage = b.data();
  aligned_buffer<int> c = std::move(b);
  CHECK(c.data() == storage);
  a = c;
  CHECK(a[2] == -1);
  CHECK(a.data() != c.data());
}
