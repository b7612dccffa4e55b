// anybit/data/idx.hpp — reads IDX files, the format of MNIST and its relatives, holding uint8
// images or uint8 labels.
//
// An IDX file is a 4-byte magic (0, 0, element type, number of dimensions), one big-endian
// uint32 per dimension, then the elements in row-major order. The two kinds MNIST-style
// datasets ship are read here: labels (0x00000801: uint8, one dimension) and images
// (0x00000803: uint8, three dimensions). Files named *.gz or starting with the gzip magic are
// decompressed first. The header must describe the data exactly: a file that is shorter or
// longer than its dimensions say is an error, not a partial read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "anybit/core/error.hpp"
#include "anybit/data/gzip.hpp"
#include "anybit/data/hex.hpp"
#include "anybit/data/read_file.hpp"

namespace anybit {

inline constexpr std::uint32_t idx_labels_magic = 0x00000801;  // uint8 elements, 1 dimension
inline constexpr std::uint32_t idx_images_magic = 0x00000803;  // uint8 elements, 3 dimensions

/// Default ceiling on the decoded size of one IDX file: far above any MNIST-family file (the
/// largest EMNIST file is 550 MB), low enough that a corrupt header cannot exhaust memory.
inline constexpr std::size_t idx_default_max_bytes = std::size_t{1} << 30;

/// `count` greyscale images of rows x cols pixels.
struct idx_images {
  std::size_t count = 0;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<std::uint8_t> pixels;  // image after image, each row-major: count * rows * cols

  std::size_t pixels_per_image() const { return rows * cols; }
  const std::uint8_t* image(std::size_t i) const { return pixels.data() + i * rows * cols; }
};

/// One class label per sample.
struct idx_labels {
  std::vector<std::uint8_t> values;

  std::size_t count() const { return values.size(); }
};

namespace data_detail {

inline std::uint32_t load_be32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
}

inline const char* idx_kind(std::uint32_t magic) {
  if (magic == idx_labels_magic) return "uint8 labels, 1 dimension";
  if (magic == idx_images_magic) return "uint8 images, 3 dimensions";
  return nullptr;
}

// Checks the magic, the header and that the payload holds exactly the elements the dimensions
// promise. Returns the dimensions; the payload starts right after them.
template <std::size_t Dims>
std::array<std::size_t, Dims> parse_idx_header(const std::uint8_t* data, std::size_t size, std::uint32_t magic,
                                               const std::string& source) {
  if (size < 4) {
    throw format_error(detail::message("anybit: ", source, ": IDX data is ", size, " bytes, too short for the 4-byte magic"));
  }
  const std::uint32_t found = load_be32(data);
  if (found != magic) {
    const char* found_kind = idx_kind(found);
    throw format_error(detail::message("anybit: ", source, ": IDX magic is ", hex(found, 8), found_kind ? " (" : "",
                                       found_kind ? found_kind : "", found_kind ? ")" : "", ", expected ", hex(magic, 8),
                                       " (", idx_kind(magic), ")"));
  }
  constexpr std::size_t header = 4 + 4 * Dims;
  if (size < header) {
    throw format_error(detail::message("anybit: ", source, ": IDX data ends inside the header: ", size,
                                       " bytes, expected at least ", header));
  }
  std::array<std::size_t, Dims> dims{};
  std::size_t elements = 1;
  std::string shape;
  for (std::size_t d = 0; d < Dims; ++d) {
    dims[d] = load_be32(data + 4 + 4 * d);
    shape += (d == 0 ? "" : " x ") + std::to_string(dims[d]);
  }
  for (std::size_t d = 0; d < Dims; ++d) {
    if (dims[d] != 0 && elements > SIZE_MAX / dims[d]) {
      throw format_error(detail::message("anybit: ", source, ": IDX dimensions ", shape, " are absurd (more than 2^",
                                         8 * sizeof(std::size_t), " elements)"));
    }
    elements *= dims[d];
  }
  if (size - header != elements) {
    throw format_error(detail::message("anybit: ", source, ": IDX data holds ", size - header,
                                       " bytes after the header, expected ", elements, " (dimensions ", shape, ")"));
  }
  return dims;
}

inline void check_image_size(const std::array<std::size_t, 3>& dims, const std::string& source) {
  if (dims[1] == 0 || dims[2] == 0) {
    throw format_error(detail::message("anybit: ", source, ": IDX image size ", dims[1], " x ", dims[2],
                                       ", expected at least 1 x 1"));
  }
}

// The file's bytes, gunzipped if its name ends in ".gz" or it starts with the gzip magic.
inline std::vector<std::uint8_t> read_maybe_gzipped(const std::string& path, std::size_t max_bytes) {
  // Compressed data can be slightly larger than the data itself (stored blocks).
  const std::size_t slack = max_bytes / 64 + 4096;
  const std::size_t max_file = max_bytes > SIZE_MAX - slack ? SIZE_MAX : max_bytes + slack;
  std::vector<std::uint8_t> file = read_file_bytes(path, max_file);
  const bool gz_name = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (gz_name || is_gzip(file.data(), file.size())) return gunzip(file.data(), file.size(), max_bytes, path);
  if (file.size() > max_bytes) {
    throw format_error(detail::message("anybit: '", path, "' holds ", file.size(), " bytes, more than the limit of ", max_bytes));
  }
  return file;
}

}  // namespace data_detail

/// Images from the bytes of an IDX file; `source` names it in error messages. Throws
/// format_error on a wrong magic, a truncated or over-long file, or an empty image size.
inline idx_images parse_idx_images(const std::uint8_t* data, std::size_t size, const std::string& source = "IDX buffer") {
  const auto dims = data_detail::parse_idx_header<3>(data, size, idx_images_magic, source);
  data_detail::check_image_size(dims, source);
  idx_images images;
  images.count = dims[0];
  images.rows = dims[1];
  images.cols = dims[2];
  images.pixels.assign(data + 16, data + size);
  return images;
}

/// Labels from the bytes of an IDX file; `source` names it in error messages. Throws
/// format_error on a wrong magic or a truncated or over-long file.
inline idx_labels parse_idx_labels(const std::uint8_t* data, std::size_t size, const std::string& source = "IDX buffer") {
  data_detail::parse_idx_header<1>(data, size, idx_labels_magic, source);
  idx_labels labels;
  labels.values.assign(data + 8, data + size);
  return labels;
}

/// Images from an IDX file, gzip'd or not. Throws io_error if the file cannot be read,
/// format_error if it is malformed or decodes to more than `max_bytes`.
inline idx_images read_idx_images(const std::string& path, std::size_t max_bytes = idx_default_max_bytes) {
  std::vector<std::uint8_t> bytes = data_detail::read_maybe_gzipped(path, max_bytes);
  const auto dims = data_detail::parse_idx_header<3>(bytes.data(), bytes.size(), idx_images_magic, path);
  data_detail::check_image_size(dims, path);
  // Reuse the buffer rather than copying tens of megabytes: drop the 16-byte header in place.
  bytes.erase(bytes.begin(), bytes.begin() + 16);
  idx_images images;
  images.count = dims[0];
  images.rows = dims[1];
  images.cols = dims[2];
  images.pixels = std::move(bytes);
  return images;
}

/// Labels from an IDX file, gzip'd or not. Throws io_error if the file cannot be read,
/// format_error if it is malformed or decodes to more than `max_bytes`.
inline idx_labels read_idx_labels(const std::string& path, std::size_t max_bytes = idx_default_max_bytes) {
  std::vector<std::uint8_t> bytes = data_detail::read_maybe_gzipped(path, max_bytes);
  data_detail::parse_idx_header<1>(bytes.data(), bytes.size(), idx_labels_magic, path);
  bytes.erase(bytes.begin(), bytes.begin() + 8);
  idx_labels labels;
  labels.values = std::move(bytes);
  return labels;
}

}  // namespace anybit
