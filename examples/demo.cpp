// anybit-demo: packs random codes at every bit-width, prints what they cost to store, and checks
// the bit-serial dot product against plain integer arithmetic (also on nested lower-bit views).
// Exit status 0 means every check held.
#include <anybit/anybit.hpp>

#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

namespace {

std::vector<std::uint8_t> random_codes(std::size_t n, int bits, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> code(0, static_cast<int>(anybit::max_code(bits)));
  std::vector<std::uint8_t> out(n);
  for (auto& c : out) c = static_cast<std::uint8_t>(code(rng));
  return out;
}

std::int64_t integer_dot(const std::uint8_t* a, const std::uint8_t* w, std::size_t k, int shift_a, int shift_w) {
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < k; ++i) sum += std::int64_t{a[i] >> shift_a} * (w[i] >> shift_w);
  return sum;
}

}  // namespace

int main() {
  const std::size_t rows = 64, k = 4096;
  std::mt19937_64 rng(2026);
  std::printf("anybit %s demo: %zu rows x %zu codes per tensor\n\n", anybit::version_string, rows, k);
  std::printf("bits  uint8 bytes  bit-plane bytes  vs uint8  dot products checked\n");

  int failures = 0;
  for (int b = 1; b <= anybit::max_bits; ++b) {
    const auto a_codes = random_codes(rows * k, b, rng);
    const auto w_codes = random_codes(rows * k, b, rng);
    const auto a = anybit::bitplane_tensor<>::from_codes(a_codes.data(), rows, k, b);
    const auto w = anybit::bitplane_tensor<>::from_codes(w_codes.data(), rows, k, b);
    if (a.to_codes() != a_codes) ++failures;

    // Every row of a against every row of w, at full width and at every nested width.
    std::size_t checked = 0;
    for (int nb = 1; nb <= b; ++nb) {
      const auto av = a.top(nb), wv = w.top(nb);
      for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < rows; j += 7) {
          const auto expected = integer_dot(&a_codes[i * k], &w_codes[j * k], k, b - nb, b - nb);
          if (anybit::reference::bitserial_dot(av, i, wv, j) != expected) ++failures;
          ++checked;
        }
      }
    }
    std::printf("%4d  %11zu  %15zu  %7.3fx  %zu (widths 1..%d), %s\n", b, rows * k, a.storage_bytes(),
                static_cast<double>(a.storage_bytes()) / static_cast<double>(rows * k), checked, b,
                failures == 0 ? "all equal" : "MISMATCH");
  }
  std::printf("\n%s\n", failures == 0 ? "demo: every check passed" : "demo: FAILED");
  return failures == 0 ? 0 : 1;
}
