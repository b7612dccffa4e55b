// anybit/core/aligned_buffer.hpp — an owning, zero-initialised, 64-byte-aligned array.
//
// 64 bytes is one cache line and one AVX-512 register, so every SIMD kernel may use aligned
// loads on storage that comes from here.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

namespace anybit {

inline constexpr std::size_t storage_alignment = 64;

template <class T>
class aligned_buffer {
  static_assert(std::is_trivially_copyable_v<T>, "aligned_buffer holds plain values only");

 public:
  aligned_buffer() = default;
  explicit aligned_buffer(std::size_t size) : data_(allocate(size)), size_(size) {}

  aligned_buffer(const aligned_buffer& other) : aligned_buffer(other.size_) {
    if (size_ != 0) std::memcpy(data_.get(), other.data_.get(), size_ * sizeof(T));
  }
  aligned_buffer& operator=(const aligned_buffer& other) {
    if (this != &other) *this = aligned_buffer(other);
    return *this;
  }
  aligned_buffer(aligned_buffer&&) noexcept = default;
  aligned_buffer& operator=(aligned_buffer&&) noexcept = default;

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }

 private:
  struct deleter {
    void operator()(T* p) const noexcept {
      ::operator delete(p, std::align_val_t{storage_alignment});
    }
  };

  static T* allocate(std::size_t size) {
    if (size == 0) return nullptr;
    void* p = ::operator new(size * sizeof(T), std::align_val_t{storage_alignment});
    std::memset(p, 0, size * sizeof(T));
    return static_cast<T*>(p);
  }

  std::unique_ptr<T[], deleter> data_;
  std::size_t size_ = 0;
};

}  // namespace anybit
