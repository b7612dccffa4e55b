// anybit/deploy/model_file.hpp — save and load an integer_model: versioned, checksummed, checked.
//
// Layout, every integer little-endian, every float IEEE-754 binary32 little-endian:
//
//     magic    "ANYBITIM" (8 bytes), u32 version (1)
//     section  u32 tag (4 ASCII bytes), u32 payload length, payload,
//              u32 CRC-32 of the tag, length and payload
//
// Sections, in this order: HEAD (u32 layer count), one section per layer, END. (empty). Layers:
//     INPT  u32 C, H, W; grid; u32 n (0, 1, C or C*H*W); f32 mean[n]; f32 stddev[n]
//     CONV  u32 out_channels, kernel_h, kernel_w, stride, padding; weights
//     LINR  u32 out_features; weights
//     POOL  u32 kernel, stride
//     FLAT  (empty)
// grid = f32 scale, f32 zero point, u32 bits. weights = u32 bits; f32 scale[O]; f32 zero
// point[O]; f32 bias[O]; u32 relu (0/1); u32 codes out (0: float, 1: codes, then their grid);
// then the O x K weight codes in training order (OIHW; K in N C H W order) as a code stream
// (code_stream.hpp), K following from the layers before. The file holds each layer as it runs:
// the output multiplier is folded into the weight scale (and the codes of a channel with a
// negative multiplier flipped), so a loaded layer has multiplier 1.
//
// Loading checks every length against the bytes that remain before it allocates, every count
// against model_limits, every checksum, the section order, that HEAD's count matches and END
// is present and last; then it rebuilds the model through integer_model_builder, which checks
// every value and the shape chain. A corrupt or truncated file raises format_error naming what
// is wrong and where; it never crashes. Saving is atomic (nn/file_io.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "anybit/core/crc32.hpp"
#include "anybit/core/error.hpp"
#include "anybit/deploy/code_stream.hpp"
#include "anybit/deploy/integer_model.hpp"
#include "anybit/deploy/integer_model_builder.hpp"
#include "anybit/deploy/layer_spec.hpp"
#include "anybit/deploy/weight_order.hpp"
#include "anybit/nn/file_io.hpp"

namespace anybit::deploy {

inline constexpr char model_file_magic[8] = {'A', 'N', 'Y', 'B', 'I', 'T', 'I', 'M'};
inline constexpr std::uint32_t model_file_version = 1;

namespace internal {

constexpr std::uint32_t section_tag(const char (&name)[5]) noexcept {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(name[0])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(name[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(name[2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(name[3])) << 24;
}
inline constexpr std::uint32_t head_tag = section_tag("HEAD");
inline constexpr std::uint32_t input_tag = section_tag("INPT");
inline constexpr std::uint32_t conv2d_tag = section_tag("CONV");
inline constexpr std::uint32_t linear_tag = section_tag("LINR");
inline constexpr std::uint32_t pool_tag = section_tag("POOL");
inline constexpr std::uint32_t flatten_tag = section_tag("FLAT");
inline constexpr std::uint32_t end_tag = section_tag("END.");

// "CONV" for a printable tag, else its hex value.
inline std::string tag_name(std::uint32_t tag) {
  std::string text;
  for (int i = 0; i < 4; ++i) {
    const auto c = static_cast<char>((tag >> (8 * i)) & 0xFFu);
    if (c < 0x20 || c > 0x7E) {
      static constexpr char hex[] = "0123456789abcdef";
      std::string digits = "0x";
      for (int d = 7; d >= 0; --d) digits += hex[(tag >> (4 * d)) & 0xFu];
      return digits;
    }
    text += c;
  }
  return text;
}

class byte_writer {
 public:
  explicit byte_writer(std::vector<std::uint8_t>& out) : out_(out) {}
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void count(std::size_t v) { u32(static_cast<std::uint32_t>(v)); }  // every count is <= model_limits
  void f32(float f) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    u32(bits);
  }
  void floats(const std::vector<float>& values) {
    for (float v : values) f32(v);
  }
  void grid(const activation_grid& g) {
    f32(g.scale);
    f32(g.zero_point);
    count(static_cast<std::size_t>(g.bits));
  }

 private:
  std::vector<std::uint8_t>& out_;
};

// Bounds-checked little-endian reads; every failure is a format_error naming the field, the
// place (`where`) and the byte offset in the file.
class byte_reader {
 public:
  byte_reader(const std::uint8_t* data, std::size_t size, std::size_t file_offset, std::string where)
      : data_(data), size_(size), file_offset_(file_offset), where_(std::move(where)) {}

  std::size_t remaining() const noexcept { return size_ - offset_; }
  std::size_t file_offset() const noexcept { return file_offset_ + offset_; }
  const std::string& where() const noexcept { return where_; }

  void need(std::size_t bytes, const char* field) const {
    if (bytes > remaining()) {
      throw format_error(detail::message("anybit: model file ", where_, ": ", field, " at byte ", file_offset(), " needs ",
                                         bytes, " bytes, only ", remaining(), " remain (truncated or corrupt)"));
    }
  }
  const std::uint8_t* bytes(std::size_t count, const char* field) {
    need(count, field);
    const std::uint8_t* p = data_ + offset_;
    offset_ += count;
    return p;
  }
  std::uint32_t u32(const char* field) {
    const std::uint8_t* p = bytes(4, field);
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
  }
  float f32(const char* field) {
    const std::uint32_t bits = u32(field);
    float f = 0;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  /// `count` floats; the length is checked before anything is allocated.
  std::vector<float> floats(std::size_t count, const char* field) {
    need(count > remaining() / 4 ? remaining() + 1 : count * 4, field);
    std::vector<float> values(count);
    for (float& v : values) v = f32(field);
    return values;
  }
  /// A u32 that must be at most `limit`.
  std::size_t bounded(const char* field, std::size_t limit) {
    const std::uint32_t v = u32(field);
    if (v > limit) fail(detail::message(field, " = ", v, ", expected at most ", limit));
    return v;
  }
  bool flag(const char* field) {
    const std::uint32_t v = u32(field);
    if (v > 1) fail(detail::message(field, " = ", v, ", expected 0 or 1"));
    return v == 1;
  }
  int bits(const char* field) {
    const std::uint32_t v = u32(field);
    if (v < 1 || v > 8) fail(detail::message(field, " = ", v, ", expected 1..8"));
    return static_cast<int>(v);
  }
  activation_grid grid(const char* what) {
    activation_grid g;
    g.scale = f32(what);
    g.zero_point = f32(what);
    g.bits = bits(what);
    return g;
  }
  void expect_end() const {
    if (remaining() != 0) {
      fail(detail::message("payload has ", remaining(), " bytes after its last field at byte ", file_offset(),
                           ", expected none"));
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw format_error(detail::message("anybit: model file ", where_, ": ", what));
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t file_offset_;
  std::string where_;
  std::size_t offset_ = 0;
};

inline void write_section(std::vector<std::uint8_t>& out, std::uint32_t tag, const std::vector<std::uint8_t>& payload) {
  const std::size_t start = out.size();
  byte_writer w(out);
  w.u32(tag);
  w.u32(static_cast<std::uint32_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  w.u32(crc32(out.data() + start, out.size() - start));
}

// The C x H x W block each output row of a weighted layer reduces over.
inline tensor_shape weight_block(const integer_layer& layer) {
  if (layer.kind == layer_kind::conv2d) return {layer.input.channels, layer.geometry.kernel_h, layer.geometry.kernel_w};
  return layer.input_layout;
}

inline void write_weighted(byte_writer& w, std::vector<std::uint8_t>& payload, const integer_layer& layer) {
  const std::size_t n = layer.out_channels();
  w.count(static_cast<std::size_t>(layer.weight_bits));
  w.floats(layer.quant.scale);
  w.floats(layer.quant.zero_point);
  w.floats(layer.stage.bias);
  w.count(layer.relu ? 1 : 0);
  w.count(layer.output_grid ? 1 : 0);
  if (layer.output_grid) w.grid(*layer.output_grid);
  const tensor_shape block = weight_block(layer);
  const std::vector<std::uint8_t> codes =
      channels_first(unpack_weight_codes(layer.weights->view()), n, block.channels, block.height, block.width);
  append_code_stream(codes.data(), codes.size(), layer.weight_bits, payload);
}

inline std::uint32_t write_layer(std::vector<std::uint8_t>& payload, const integer_layer& layer) {
  byte_writer w(payload);
  switch (layer.kind) {
    case layer_kind::input:
      w.count(layer.input.channels);
      w.count(layer.input.height);
      w.count(layer.input.width);
      w.grid(layer.input_grid);
      w.count(layer.mean.size());
      w.floats(layer.mean);
      w.floats(layer.stddev);
      return input_tag;
    case layer_kind::conv2d:
      w.count(layer.out_channels());
      w.count(layer.geometry.kernel_h);
      w.count(layer.geometry.kernel_w);
      w.count(layer.geometry.stride);
      w.count(layer.geometry.padding);
      write_weighted(w, payload, layer);
      return conv2d_tag;
    case layer_kind::linear:
      w.count(layer.out_channels());
      write_weighted(w, payload, layer);
      return linear_tag;
    case layer_kind::max_pool2d:
      w.count(layer.geometry.kernel_h);
      w.count(layer.geometry.stride);
      return pool_tag;
    case layer_kind::flatten: return flatten_tag;
  }
  throw error("anybit: cannot save a layer of unknown kind");
}

// A conv2d's or linear layer's weights and output stage from its payload; `k` codes per output
// channel (from the layers before).
inline void read_weighted(byte_reader& in, std::size_t out_channels, std::size_t k, layer_weights& w, output_spec& out) {
  w.out_channels = out_channels;
  w.bits = in.bits("weight bits");
  w.scale = in.floats(out_channels, "weight scales");
  w.zero_point = in.floats(out_channels, "weight zero points");
  out.multiplier = {1.0f};
  out.bias = in.floats(out_channels, "biases");
  out.relu = in.flag("relu flag");
  if (in.flag("codes-out flag")) out.grid = in.grid("output grid");
  if (k > model_limits::max_weights / out_channels) {
    in.fail(detail::message("weights of ", out_channels, " x ", k, " codes, expected at most ", model_limits::max_weights));
  }
  const std::size_t bytes = code_stream_bytes(out_channels * k, w.bits);
  if (in.remaining() != bytes) {
    in.fail(detail::message("holds ", in.remaining(), " bytes of weight codes, expected ceil(", out_channels, " x ", k,
                            " x ", w.bits, " bits / 8) = ", bytes));
  }
  w.codes = read_code_stream(in.bytes(bytes, "weight codes"), out_channels * k, w.bits);
}

// Adds the layer of one section's payload to the builder.
inline void read_layer(std::uint32_t tag, byte_reader& in, integer_model_builder& builder) {
  constexpr std::size_t extent = model_limits::max_extent;
  if (tag == input_tag) {
    const std::size_t c = in.bounded("channels", extent), h = in.bounded("height", extent), w = in.bounded("width", extent);
    const activation_grid grid = in.grid("input grid");
    const std::size_t n = in.bounded("normalisation count", model_limits::max_elements);
    std::vector<float> mean = in.floats(n, "normalisation means");
    std::vector<float> stddev = in.floats(n, "normalisation stddevs");
    in.expect_end();
    builder.input(c, h, w, std::move(mean), std::move(stddev), grid);
  } else if (tag == conv2d_tag) {
    const std::size_t o = in.bounded("out_channels", extent);
    conv2d_geometry g;
    g.kernel_h = in.bounded("kernel_h", extent);
    g.kernel_w = in.bounded("kernel_w", extent);
    g.stride = in.bounded("stride", extent);
    g.padding = in.bounded("padding", extent);
    if (o == 0) in.fail("out_channels = 0, expected at least 1");
    layer_weights w;
    output_spec out;
    read_weighted(in, o, builder.shape().channels * g.kernel_h * g.kernel_w, w, out);
    builder.conv2d(w, g, out);
  } else if (tag == linear_tag) {
    const std::size_t o = in.bounded("out_features", extent);
    if (o == 0) in.fail("out_features = 0, expected at least 1");
    layer_weights w;
    output_spec out;
    read_weighted(in, o, builder.shape().size(), w, out);
    builder.linear(w, out);
  } else if (tag == pool_tag) {
    const std::size_t kernel = in.bounded("pool kernel", extent), stride = in.bounded("pool stride", extent);
    in.expect_end();
    if (stride == 0) in.fail("pool stride = 0, expected at least 1");
    builder.max_pool2d(kernel, stride);
  } else if (tag == flatten_tag) {
    in.expect_end();
    builder.flatten();
  } else {
    in.fail(detail::message("unknown section tag ", tag_name(tag), ", expected INPT, CONV, LINR, POOL, FLAT or END."));
  }
}

// The builder's message without its "anybit: " prefix, to follow the file's context.
inline std::string without_prefix(const char* what) {
  const std::string text = what;
  return text.rfind("anybit: ", 0) == 0 ? text.substr(8) : text;
}

}  // namespace internal

/// The file bytes of `model`.
inline std::vector<std::uint8_t> encode_model_file(const integer_model& model) {
  std::vector<std::uint8_t> out(model_file_magic, model_file_magic + 8);
  internal::byte_writer(out).u32(model_file_version);
  std::vector<std::uint8_t> payload;
  internal::byte_writer(payload).count(model.layers().size());
  internal::write_section(out, internal::head_tag, payload);
  for (const integer_layer& layer : model.layers()) {
    payload.clear();
    const std::uint32_t tag = internal::write_layer(payload, layer);
    internal::write_section(out, tag, payload);
  }
  internal::write_section(out, internal::end_tag, {});
  return out;
}

/// The model in `size` bytes of a model file. Throws format_error naming what is wrong: bad
/// magic, unsupported version, a checksum, a length past the end (truncation), a section out of
/// order or missing, a field out of range, a layer the builder rejects, bytes after END.
inline integer_model decode_model_file(const std::uint8_t* data, std::size_t size) {
  internal::byte_reader file(data, size, 0, "header");
  if (size < 8 || std::memcmp(data, model_file_magic, 8) != 0) {
    throw format_error("anybit: not an anybit integer model file: the first 8 bytes are not \"ANYBITIM\"");
  }
  file.bytes(8, "magic");
  const std::uint32_t version = file.u32("version");
  if (version != model_file_version) {
    throw format_error(detail::message("anybit: model file version ", version, ", expected ", model_file_version));
  }
  integer_model_builder builder;
  std::size_t layer_count = 0;  // from HEAD
  for (std::size_t index = 0;; ++index) {
    if (file.remaining() == 0) {
      throw format_error(detail::message("anybit: model file ends after ", index, " sections at byte ", size,
                                         " without an END. section: the file is truncated"));
    }
    const std::size_t start = file.file_offset();
    const std::uint32_t tag = file.u32("section tag");
    const std::uint32_t length = file.u32("section length");
    const std::uint8_t* payload = file.bytes(length, "section payload");
    const std::uint32_t stored = file.u32("section checksum");
    const std::uint32_t computed = crc32(data + start, 8 + std::size_t{length});
    const std::string where = detail::message("section ", index, " (", internal::tag_name(tag), ", bytes ", start, "..",
                                              file.file_offset(), ")");
    if (stored != computed) {
      throw format_error(detail::message("anybit: model file ", where, " has checksum ", stored, ", expected ", computed,
                                         ": the file is corrupt"));
    }
    internal::byte_reader in(payload, length, start + 8, where);
    if (index == 0 || tag == internal::head_tag) {
      if (index != 0 || tag != internal::head_tag) {
        in.fail("expected HEAD as the first section and only there");
      }
      layer_count = in.bounded("layer count", model_limits::max_layers);
      in.expect_end();
      if (layer_count < 2) in.fail(detail::message("layer count = ", layer_count, ", expected at least 2"));
      continue;
    }
    if (tag == internal::end_tag) {
      in.expect_end();
      if (builder.layer_count() != layer_count) {
        in.fail(detail::message("END. after ", builder.layer_count(), " layers, the header announces ", layer_count));
      }
      break;
    }
    if (builder.layer_count() == layer_count) {
      in.fail(detail::message("a layer section after the ", layer_count, " layers the header announces, expected END."));
    }
    try {
      internal::read_layer(tag, in, builder);
    } catch (const format_error&) {
      throw;
    } catch (const error& e) {
      in.fail(detail::message("does not describe a valid layer: ", internal::without_prefix(e.what())));
    }
  }
  if (file.remaining() != 0) {
    throw format_error(detail::message("anybit: model file has ", file.remaining(), " bytes after its END. section at byte ",
                                       file.file_offset(), ", expected none"));
  }
  try {
    return builder.build();
  } catch (const error& e) {
    throw format_error(detail::message("anybit: model file does not describe a complete model: ",
                                       internal::without_prefix(e.what())));
  }
}

/// Saves `model` to `path` atomically (temporary file + rename); throws io_error on failure,
/// leaving any existing file at `path` as it was.
inline void save_model(const integer_model& model, const std::string& path) {
  nn::write_file_atomically(path, encode_model_file(model));
}

/// Loads a model saved by save_model. Throws io_error if the file cannot be read, format_error
/// (naming the file) if it is corrupt.
inline integer_model load_model(const std::string& path) {
  const std::vector<std::uint8_t> bytes = nn::read_whole_file(path);
  try {
    return decode_model_file(bytes.data(), bytes.size());
  } catch (const format_error& e) {
    throw format_error(detail::message(e.what(), " (file '", path, "')"));
  }
}

}  // namespace anybit::deploy
