// anybit/data/hex.hpp — hexadecimal formatting for error messages (magic numbers, checksums).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace anybit::data_detail {

/// `value` as "0x" and exactly `digits` upper-case hex digits: hex(0x803, 8) == "0x00000803".
inline std::string hex(std::uint64_t value, int digits) {
  static constexpr char symbols[] = "0123456789ABCDEF";
  std::string text(static_cast<std::size_t>(digits) + 2, '0');
  text[1] = 'x';
  for (std::size_t i = text.size() - 1; i >= 2; --i, value >>= 4) text[i] = symbols[value & 0xFu];
  return text;
}

}  // namespace anybit::data_detail
