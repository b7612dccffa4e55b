// Conan test_package: the package's headers compile and a 2-bit tensor decodes what it encoded.
#include <anybit/anybit.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  const std::uint8_t codes[5] = {0, 1, 2, 3, 2};
  const auto t = anybit::bitplane_tensor<2>::from_codes(codes, 1, 5);
  const bool ok = t.to_codes() == std::vector<std::uint8_t>(codes, codes + 5) && t.row_sums()[0] == 8;
  std::printf("anybit %s test_package: %s\n", anybit::version_string, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
