// What a consumer project builds: the umbrella header, a packed tensor, a nested view and the
// bit-serial dot product checked against integer arithmetic. Exit code 0 means it all works.
#include <anybit/anybit.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  const std::size_t k = 100;
  std::vector<std::uint8_t> a(k), w(k);
  for (std::size_t i = 0; i < k; ++i) {
    a[i] = static_cast<std::uint8_t>((i * 37 + 11) % 16);
    w[i] = static_cast<std::uint8_t>((i * 91 + 5) % 16);
  }
  const auto ta = anybit::bitplane_tensor<4>::from_codes(a.data(), 1, k);
  const auto tw = anybit::bitplane_tensor<>::from_codes(w.data(), 1, k, 4);
  std::int64_t full = 0, nested = 0;
  for (std::size_t i = 0; i < k; ++i) {
    full += a[i] * w[i];
    nested += (a[i] >> 2) * (w[i] >> 1);
  }
  const bool ok = anybit::reference::bitserial_dot(ta, 0, tw, 0) == full &&
                  anybit::reference::bitserial_dot(ta.top(2), 0, tw.top(3), 0) == nested;
  std::printf("anybit %s consumer: %s\n", anybit::version_string, ok ? "ok" : "MISMATCH");
  return ok ? 0 : 1;
}
