// anybit/nn/parameter_file.hpp — save and load a model's float parameters and buffers.
//
// File layout, every integer little-endian, every float IEEE-754 binary32 little-endian:
//
//     header   magic "ABNNPARM" (8 bytes), u32 version (1), u32 tensor count,
//              u32 CRC-32 of the 16 bytes before it
//     tensor   u32 name length (1..1024), name (UTF-8, no NUL), u32 rank (0..4),
//              u64 extent per axis, the elements in row-major order,
//              u32 CRC-32 of the section's bytes before it
//     ...      one section per tensor, then the end of the file (no trailing bytes)
//
// A section's checksum covers its name and shape too, so a flipped bit anywhere is caught, and
// every length is checked against the bytes that remain before anything is allocated: a corrupt
// or truncated file raises format_error, never crashes. Loading matches tensors to the model by
// name and checks every shape before it changes anything, so a failed load leaves the model as
// it was. Saving is atomic (file_io.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "anybit/core/crc32.hpp"
#include "anybit/core/error.hpp"
#include "anybit/nn/file_io.hpp"
#include "anybit/nn/module.hpp"
#include "anybit/tensor/dense_shape.hpp"
#include "anybit/tensor/dense_tensor.hpp"

namespace anybit::nn {

inline constexpr char parameter_file_magic[8] = {'A', 'B', 'N', 'N', 'P', 'A', 'R', 'M'};
inline constexpr std::uint32_t parameter_file_version = 1;
inline constexpr std::size_t parameter_file_max_name = 1024;

/// A tensor read from a parameter file.
struct loaded_tensor {
  std::string name;
  dense_tensor values;
};

namespace internal {

inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

/// Bounds-checked little-endian reads from a byte buffer; every failure is a format_error
/// naming the field, its offset and what was expected.
class byte_reader {
 public:
  byte_reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  std::size_t offset() const noexcept { return offset_; }
  std::size_t remaining() const noexcept { return size_ - offset_; }
  const std::uint8_t* here() const noexcept { return data_ + offset_; }

  void need(std::size_t bytes, const char* field) const {
    if (bytes > remaining()) {
      throw format_error(detail::message("anybit: parameter file truncated: ", field, " at byte ", offset_, " needs ",
                                         bytes, " bytes, only ", remaining(), " remain"));
    }
  }
  std::uint32_t u32(const char* field) {
    need(4, field);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(data_[offset_ + static_cast<std::size_t>(i)]) << (8 * i);
    offset_ += 4;
    return v;
  }
  std::uint64_t u64(const char* field) {
    need(8, field);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(data_[offset_ + static_cast<std::size_t>(i)]) << (8 * i);
    offset_ += 8;
    return v;
  }
  const std::uint8_t* bytes(std::size_t count, const char* field) {
    need(count, field);
    const std::uint8_t* p = data_ + offset_;
    offset_ += count;
    return p;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t offset_ = 0;
};

inline std::uint32_t float_bits(float f) noexcept {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float bits_float(std::uint32_t u) noexcept {
  float f = 0;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// One tensor section; returns the tensor after its checksum matched.
inline loaded_tensor read_section(byte_reader& in, std::size_t index) {
  const std::size_t start = in.offset();
  const std::uint32_t name_length = in.u32("tensor name length");
  if (name_length == 0 || name_length > parameter_file_max_name) {
    throw format_error(detail::message("anybit: parameter file tensor ", index, " has a name of ", name_length,
                                       " bytes, expected 1..", parameter_file_max_name));
  }
  const std::uint8_t* name_bytes = in.bytes(name_length, "tensor name");
  const std::uint32_t rank = in.u32("tensor rank");
  if (rank > static_cast<std::uint32_t>(dense_shape::max_rank)) {
    throw format_error(detail::message("anybit: parameter file tensor ", index, " has rank ", rank, ", expected 0..",
                                       dense_shape::max_rank));
  }
  std::size_t dims[dense_shape::max_rank] = {};
  std::uint64_t elements = 1;
  for (std::uint32_t axis = 0; axis < rank; ++axis) {
    const std::uint64_t extent = in.u64("tensor extent");
    // The data must fit in what is left of the file: this bounds every extent before any
    // product or allocation can overflow.
    const std::uint64_t limit = in.remaining() / sizeof(float);
    if (extent != 0 && elements > limit / extent) {
      throw format_error(detail::message("anybit: parameter file tensor ", index, " extent ", extent, " at axis ", axis,
                                         " needs more data than the ", in.remaining(), " bytes that remain"));
    }
    elements *= extent;
    dims[axis] = static_cast<std::size_t>(extent);
  }
  const auto count = static_cast<std::size_t>(elements);
  const std::uint8_t* data = in.bytes(count * sizeof(float), "tensor data");
  const std::uint32_t computed = crc32(in.here() - (in.offset() - start), in.offset() - start);
  const std::uint32_t stored = in.u32("tensor checksum");
  if (computed != stored) {
    throw format_error(detail::message("anybit: parameter file tensor ", index, " (bytes ", start, "..", in.offset(),
                                       ") has checksum ", stored, ", expected ", computed, ": the file is corrupt"));
  }
  loaded_tensor t;
  t.name.assign(reinterpret_cast<const char*>(name_bytes), name_length);
  t.values = dense_tensor(dense_shape(dims, rank));
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* p = data + 4 * i;
    t.values[i] = bits_float(static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
                             static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24);
  }
  return t;
}

}  // namespace internal

/// The file bytes of `tensors`, in their order. Throws error for an empty or over-long name.
inline std::vector<std::uint8_t> encode_parameter_file(const std::vector<named_tensor>& tensors) {
  std::vector<std::uint8_t> out(parameter_file_magic, parameter_file_magic + 8);
  internal::put_u32(out, parameter_file_version);
  internal::put_u32(out, static_cast<std::uint32_t>(tensors.size()));
  internal::put_u32(out, crc32(out.data(), out.size()));
  for (const named_tensor& t : tensors) {
    if (t.name.empty() || t.name.size() > parameter_file_max_name) {
      throw error(detail::message("anybit: tensor name '", t.name, "' of ", t.name.size(), " bytes, expected 1..",
                                  parameter_file_max_name));
    }
    const std::size_t start = out.size();
    internal::put_u32(out, static_cast<std::uint32_t>(t.name.size()));
    out.insert(out.end(), t.name.begin(), t.name.end());
    const dense_shape& s = t.tensor->shape();
    internal::put_u32(out, static_cast<std::uint32_t>(s.rank()));
    for (int axis = 0; axis < s.rank(); ++axis) internal::put_u64(out, s[axis]);
    out.reserve(out.size() + 4 * s.size() + 4);
    for (const float v : *t.tensor) internal::put_u32(out, internal::float_bits(v));
    internal::put_u32(out, crc32(out.data() + start, out.size() - start));
  }
  return out;
}

/// Every tensor of a parameter file held in memory. Throws format_error naming what is wrong:
/// bad magic, unsupported version, header or tensor checksum, a length that runs past the end
/// (truncation), a duplicate name, bytes after the last tensor.
inline std::vector<loaded_tensor> decode_parameter_file(const std::uint8_t* data, std::size_t size) {
  internal::byte_reader in(data, size);
  const std::uint8_t* magic = in.bytes(8, "magic");
  if (std::memcmp(magic, parameter_file_magic, 8) != 0) {
    throw format_error("anybit: not an anybit parameter file: the first 8 bytes are not \"ABNNPARM\"");
  }
  const std::uint32_t version = in.u32("version");
  const std::uint32_t count = in.u32("tensor count");
  const std::uint32_t header_crc = in.u32("header checksum");
  if (header_crc != crc32(data, 16)) {
    throw format_error(detail::message("anybit: parameter file header checksum ", header_crc, ", expected ",
                                       crc32(data, 16), ": the header is corrupt"));
  }
  if (version != parameter_file_version) {
    throw format_error(detail::message("anybit: parameter file version ", version, ", expected ",
                                       parameter_file_version));
  }
  std::vector<loaded_tensor> tensors;
  std::unordered_map<std::string, std::size_t> seen;
  for (std::uint32_t i = 0; i < count; ++i) {
    // The smallest section is 13 bytes: a corrupt count cannot make us reserve or loop for long.
    in.need(13, "tensor section");
    tensors.push_back(internal::read_section(in, i));
    if (!seen.emplace(tensors.back().name, i).second) {
      throw format_error(detail::message("anybit: parameter file holds tensor '", tensors.back().name,
                                         "' twice (sections ", seen[tensors.back().name], " and ", i, ")"));
    }
  }
  if (in.remaining() != 0) {
    throw format_error(detail::message("anybit: parameter file has ", in.remaining(), " bytes after its ", count,
                                       " tensors, expected none"));
  }
  return tensors;
}

/// Copies `tensors` into the model's state (parameters and buffers) after checking that the
/// names are exactly the model's and every shape matches; throws format_error naming the first
/// mismatch, and then changes nothing.
inline void assign_state(module& model, const std::vector<loaded_tensor>& tensors) {
  std::vector<named_tensor> state = model.state();
  std::unordered_map<std::string, const loaded_tensor*> by_name;
  for (const loaded_tensor& t : tensors) by_name.emplace(t.name, &t);
  for (const named_tensor& s : state) {
    const auto found = by_name.find(s.name);
    if (found == by_name.end()) {
      throw format_error(detail::message("anybit: parameter file has no tensor '", s.name, "', which the model (",
                                         model.describe(), ") needs"));
    }
    if (found->second->values.shape() != s.tensor->shape()) {
      throw format_error(detail::message("anybit: parameter file tensor '", s.name, "' has shape ",
                                         found->second->values.shape(), ", the model expects ", s.tensor->shape()));
    }
  }
  if (tensors.size() != state.size()) {
    std::unordered_map<std::string, bool> wanted;
    for (const named_tensor& s : state) wanted.emplace(s.name, true);
    for (const loaded_tensor& t : tensors) {
      if (wanted.count(t.name) == 0) {
        throw format_error(detail::message("anybit: parameter file has tensor '", t.name,
                                           "', which the model does not have"));
      }
    }
  }
  for (const named_tensor& s : state) {
    const dense_tensor& from = by_name.at(s.name)->values;
    std::memcpy(s.tensor->data(), from.data(), from.size() * sizeof(float));
  }
}

/// A fingerprint of a model's state: CRC-32 over every tensor's name and little-endian floats,
/// in state() order. Two models agree on it when their saved files would be identical. (The CRC
/// of a whole parameter file cannot serve: a CRC over data followed by its own CRC is a
/// constant, so the file's CRC depends only on its section lengths.)
inline std::uint32_t state_checksum(module& model) {
  std::uint32_t crc = 0;
  std::vector<std::uint8_t> bytes;
  for (const named_tensor& t : model.state()) {
    bytes.assign(t.name.begin(), t.name.end());
    for (const float v : *t.tensor) internal::put_u32(bytes, internal::float_bits(v));
    crc = crc32(bytes.data(), bytes.size(), crc);
  }
  return crc;
}

/// Saves the model's parameters and buffers to `path` atomically; throws io_error on failure.
inline void save_parameters(module& model, const std::string& path) {
  write_file_atomically(path, encode_parameter_file(model.state()));
}

/// Loads parameters and buffers saved by save_parameters into a model of the same structure.
/// Throws io_error if the file cannot be read, format_error if it is corrupt or does not fit the
/// model; the model is unchanged after any error.
inline void load_parameters(module& model, const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_whole_file(path);
  try {
    assign_state(model, decode_parameter_file(bytes.data(), bytes.size()));
  } catch (const format_error& e) {
    throw format_error(detail::message(e.what(), " (file '", path, "')"));
  }
}

}  // namespace anybit::nn
