// anybit/autograd/arena.hpp — bump allocation for one training step, reused by the next.
//
// The tape allocates every value, gradient and saved buffer here. Blocks never move, so pointers
// stay valid while recording. clear() rewinds for the next step; if the last step outgrew the
// first block, clear() replaces the blocks by one that holds the whole step (no wasted block
// tails), so from then on a step that records the same graph allocates and frees nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "anybit/core/aligned_buffer.hpp"

// Under AddressSanitizer the arena poisons every element it has not handed out (alignment
// padding, block tails, everything after clear()), so an op that writes past its own buffer is
// caught even though all buffers share a few large blocks.
#if defined(__SANITIZE_ADDRESS__)
#define ANYBIT_ARENA_POISON 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ANYBIT_ARENA_POISON 1
#endif
#endif
#ifndef ANYBIT_ARENA_POISON
#define ANYBIT_ARENA_POISON 0
#endif
#if ANYBIT_ARENA_POISON
#include <sanitizer/asan_interface.h>
#endif

namespace anybit {

template <class T>
class arena {
 public:
  static constexpr std::size_t first_block_elements = std::size_t{1} << 16;

  /// `count` elements, 64-byte aligned; zeroed when `zero` is set, otherwise unspecified.
  /// Never null, even for count 0 (so memcpy and friends see a valid pointer).
  T* allocate(std::size_t count, bool zero) {
    const std::size_t per_line = storage_alignment / sizeof(T);
    const std::size_t rounded = std::max(per_line, (count + per_line - 1) / per_line * per_line);
    while (block_ < blocks_.size() && offset_ + rounded > blocks_[block_].size()) {
      ++block_;  // the rest of this block stays unused until clear()
      offset_ = 0;
    }
    if (block_ == blocks_.size()) {
      const std::size_t grown = blocks_.empty() ? first_block_elements : 2 * blocks_.back().size();
      blocks_.emplace_back(std::max(rounded, grown));
      poison(blocks_.back());
      offset_ = 0;
    }
    T* p = blocks_[block_].data() + offset_;
    offset_ += rounded;
    used_ += rounded;
#if ANYBIT_ARENA_POISON
    ASAN_UNPOISON_MEMORY_REGION(p, count * sizeof(T));
#endif
    if (zero) std::memset(p, 0, count * sizeof(T));
    return p;
  }

  /// Forgets every allocation; keeps the memory for reuse (merged into one block if the last
  /// step needed several).
  void clear() {
    if (blocks_.size() > 1) {
      const std::size_t needed = std::max(used_, first_block_elements);
      for (auto& b : blocks_) unpoison(b);  // the allocator may reuse this memory
      blocks_.clear();
      blocks_.emplace_back(needed);
    }
    for (auto& b : blocks_) poison(b);
    block_ = 0;
    offset_ = 0;
    used_ = 0;
  }

  arena() = default;
  arena(const arena&) = delete;  // handed-out pointers point into the blocks
  arena& operator=(const arena&) = delete;
  ~arena() {
    for (auto& b : blocks_) unpoison(b);
  }

  /// Elements held from the system, used or not.
  std::size_t capacity() const noexcept {
    std::size_t total = 0;
    for (const auto& b : blocks_) total += b.size();
    return total;
  }
  /// Elements handed out since the last clear(), alignment padding included.
  std::size_t used() const noexcept { return used_; }

 private:
  static void poison(aligned_buffer<T>& b) noexcept {
#if ANYBIT_ARENA_POISON
    ASAN_POISON_MEMORY_REGION(b.data(), b.size() * sizeof(T));
#else
    (void)b;
#endif
  }
  static void unpoison(aligned_buffer<T>& b) noexcept {
#if ANYBIT_ARENA_POISON
    ASAN_UNPOISON_MEMORY_REGION(b.data(), b.size() * sizeof(T));
#else
    (void)b;
#endif
  }

  std::vector<aligned_buffer<T>> blocks_;
  std::size_t block_ = 0, offset_ = 0, used_ = 0;
};

/// A growable scratch array for temporaries inside one op (im2col columns and the like).
class scratch_buffer {
 public:
  /// At least `count` floats, contents unspecified; invalidated by the next call.
  float* get(std::size_t count) {
    if (buffer_.size() < count) buffer_ = aligned_buffer<float>(count);
    return buffer_.data();
  }

 private:
  aligned_buffer<float> buffer_;
};

}  // namespace anybit
