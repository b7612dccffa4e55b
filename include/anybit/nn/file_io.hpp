// anybit/nn/file_io.hpp — whole-file reads, and writes that never leave a half-written file.
//
// An atomic write puts the bytes in a temporary file in the target's directory (same file
// system, so the rename cannot degrade into a copy), flushes it to disk, closes it and renames
// it over the target: a reader sees the old file or the new one, never a mixture, even if the
// writer dies midway. POSIX only (Linux, macOS), like the rest of the trainer tooling.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "anybit/core/error.hpp"

namespace anybit::nn {

namespace internal {

inline std::string errno_text(int code) { return std::strerror(code); }

/// Closes a descriptor and removes the temporary file unless released.
class temporary_file {
 public:
  temporary_file(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~temporary_file() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  temporary_file(const temporary_file&) = delete;
  temporary_file& operator=(const temporary_file&) = delete;
  int fd() const noexcept { return fd_; }
  const std::string& path() const noexcept { return path_; }
  /// Closes the descriptor; returns close()'s errno, 0 on success.
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result == 0 ? 0 : errno;
  }
  void release() noexcept { path_.clear(); }

 private:
  int fd_;
  std::string path_;
};

}  // namespace internal

/// Writes `size` bytes to `path` atomically (temporary file, fsync, close, rename). Throws
/// io_error naming the path and the system's reason if any step fails; the target is then
/// untouched and the temporary file removed.
inline void write_file_atomically(const std::string& path, const void* data, std::size_t size) {
  if (path.empty()) throw io_error("anybit: cannot write a file with an empty path, expected a file name");
  std::string pattern = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) {
    throw io_error(detail::message("anybit: cannot create a temporary file next to '", path, "': ",
                                   internal::errno_text(errno)));
  }
  internal::temporary_file tmp(fd, pattern);
  ::fchmod(fd, 0644);  // mkstemp makes it 0600; a saved model is not a secret
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, bytes + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw io_error(detail::message("anybit: writing '", tmp.path(), "' failed after ", written, " of ", size,
                                     " bytes: ", internal::errno_text(n < 0 ? errno : EIO)));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    throw io_error(detail::message("anybit: fsync of '", tmp.path(), "' failed: ", internal::errno_text(errno)));
  }
  if (const int code = tmp.close(); code != 0) {
    throw io_error(detail::message("anybit: closing '", tmp.path(), "' failed: ", internal::errno_text(code)));
  }
  if (::rename(tmp.path().c_str(), path.c_str()) != 0) {
    throw io_error(detail::message("anybit: cannot rename '", tmp.path(), "' to '", path, "': ",
                                   internal::errno_text(errno)));
  }
  tmp.release();
}

inline void write_file_atomically(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  write_file_atomically(path, bytes.data(), bytes.size());
}
inline void write_file_atomically(const std::string& path, const std::string& text) {
  write_file_atomically(path, text.data(), text.size());
}

/// Every byte of the regular file at `path`. Throws io_error naming the path and the reason if
/// it cannot be opened or read.
inline std::vector<std::uint8_t> read_whole_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw io_error(detail::message("anybit: cannot open '", path, "': ", internal::errno_text(errno)));
  internal::temporary_file guard(fd, "");  // closes fd on every path out; removes nothing
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    throw io_error(detail::message("anybit: '", path, "' is not a regular file, expected a saved file"));
  }
  std::vector<std::uint8_t> bytes;
  std::uint8_t chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw io_error(detail::message("anybit: reading '", path, "' failed: ", internal::errno_text(errno)));
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  return bytes;
}

}  // namespace anybit::nn
