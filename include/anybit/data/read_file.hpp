// anybit/data/read_file.hpp — reads a whole file into memory, with errors that name the path.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "anybit/core/error.hpp"

namespace anybit {

/// The bytes of the file at `path`. Throws io_error naming the path and the system's reason if
/// it cannot be opened or read, format_error if it holds more than `max_bytes` bytes (so a wrong
/// path cannot exhaust memory).
inline std::vector<std::uint8_t> read_file_bytes(const std::string& path, std::size_t max_bytes) {
  struct closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  const std::unique_ptr<std::FILE, closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    throw io_error(detail::message("anybit: cannot open '", path, "': ", std::generic_category().message(errno)));
  }
  std::vector<std::uint8_t> bytes;
  constexpr std::size_t chunk = std::size_t{1} << 20;
  for (;;) {
    const std::size_t before = bytes.size();
    if (before > max_bytes) {
      throw format_error(detail::message("anybit: '", path, "' is larger than the limit of ", max_bytes, " bytes"));
    }
    bytes.resize(before + chunk);
    const std::size_t got = std::fread(bytes.data() + before, 1, chunk, file.get());
    bytes.resize(before + got);
    if (got < chunk) {
      if (std::ferror(file.get()) != 0) {
        throw io_error(detail::message("anybit: cannot read '", path, "': ", std::generic_category().message(errno)));
      }
      break;
    }
  }
  if (bytes.size() > max_bytes) {
    throw format_error(detail::message("anybit: '", path, "' holds ", bytes.size(), " bytes, more than the limit of ",
                                       max_bytes));
  }
  return bytes;
}

}  // namespace anybit
