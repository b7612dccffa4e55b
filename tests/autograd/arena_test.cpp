// The tape's bump arena: alignment, stable pointers while growing, reuse after clear().
#include <cstdint>
#include <vector>

#include "anybit/autograd/arena.hpp"
#include "support/test_support.hpp"

using namespace anybit;

TEST_CASE("arena allocations are 64-byte aligned, zeroed on request and never null") {
  arena<float> a;
  for (const std::size_t n : {0u, 1u, 15u, 16u, 17u, 1000u}) {
    float* p = a.allocate(n, true);
    REQUIRE(p != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(p) % 64 == 0);
    for (std::size_t i = 0; i < n; ++i) CHECK(p[i] == 0.0f);
    for (std::size_t i = 0; i < n; ++i) p[i] = 1.0f;  // dirty it for the next round
  }
  arena<std::uint32_t> idx;
  CHECK(reinterpret_cast<std::uintptr_t>(idx.allocate(3, false)) % 64 == 0);
}

TEST_CASE("arena pointers stay valid while it grows, and clear() reuses the same memory") {
  arena<float> a;
  const std::size_t big = arena<float>::first_block_elements / 3;
  std::vector<float*> blocks;
  for (int i = 0; i < 10; ++i) {  // about 3.3 first blocks: forces growth
    float* p = a.allocate(big, false);
    for (std::size_t j = 0; j < big; j += 997) p[j] = static_cast<float>(i);
    blocks.push_back(p);
  }
  for (int i = 0; i < 10; ++i) {
    for (std::size_t j = 0; j < big; j += 997) CHECK(blocks[static_cast<std::size_t>(i)][j] == static_cast<float>(i));
  }
  const std::size_t used = a.used();
  CHECK(a.capacity() >= used);
  a.clear();  // merges the grown blocks into one that holds the whole step
  CHECK(a.used() == 0);
  CHECK(a.capacity() == used);
  float* first = nullptr;
  for (int round = 0; round < 3; ++round) {
    std::vector<float*> again;
    for (int i = 0; i < 10; ++i) again.push_back(a.allocate(big, false));
    if (round == 0) first = again[0];
    CHECK(again[0] == first);
    for (int i = 1; i < 10; ++i) CHECK(again[static_cast<std::size_t>(i)] > again[static_cast<std::size_t>(i - 1)]);  // one block
    CHECK(a.capacity() == used);  // nothing new from the system
    a.clear();
  }
}
