// anybit/core/error.hpp — the exception hierarchy every anybit API throws.
//
// Every error names the offending value and what was expected, so a user can fix the call
// from the message alone. Catch `anybit::error` for all of them, or one subclass.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace anybit {

/// Base of all anybit errors.
class error : public std::runtime_error {
 public:
  explicit error(const std::string& what) : std::runtime_error(what) {}
};

/// A dimension or extent does not match what the operation needs.
class shape_error : public error {
 public:
  using error::error;
};

/// A bit-width (or a code that does not fit its bit-width) is out of range.
class bit_width_error : public error {
 public:
  using error::error;
};

/// A file or buffer is not in the expected format (bad magic, version, checksum, field).
class format_error : public error {
 public:
  using error::error;
};

/// The operating system refused a read or a write.
class io_error : public error {
 public:
  using error::error;
};

namespace detail {

/// Builds a message from streamable parts: `message("K = ", k, ", expected ", n)`.
template <class... Parts>
std::string message(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

}  // namespace detail
}  // namespace anybit
