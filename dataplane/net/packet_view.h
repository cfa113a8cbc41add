// vnet::dp — bounds-checked typed access to packet bytes.
//
// Theory of operation
//   A PacketView is (pointer, size) over contiguous packet bytes — for an
//   mbuf, its first segment (see mbuf_view.h). header<T>(offset) returns a
//   T* when offset + sizeof(T) <= size and nullptr otherwise; T must be a
//   trivially copyable struct of alignment 1 (built from uint8_t, Be16,
//   Be32, MacAddr), so the cast is valid at any offset. This is the only
//   place where packet bytes are reinterpreted as header structs (STYLE 7).
//
// Thread-safety
//   A view does not own the bytes; it is as safe as the buffer it views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace vnet::dp::net {

template <class T>
concept WireHeader = std::is_trivially_copyable_v<T> && alignof(T) == 1;

class PacketView {
 public:
  constexpr PacketView() = default;
  constexpr PacketView(std::byte* data, size_t size) noexcept : data_(data), size_(size) {}
  constexpr explicit PacketView(std::span<std::byte> bytes) noexcept
      : data_(bytes.data()), size_(bytes.size()) {}

  template <WireHeader T>
  T* header(size_t offset) const noexcept {
    if (offset > size_ || sizeof(T) > size_ - offset) return nullptr;
    return reinterpret_cast<T*>(data_ + offset);
  }

  // The bytes in [offset, size), empty when offset > size.
  std::span<std::byte> tail(size_t offset) const noexcept {
    if (offset > size_) return {};
    return {data_ + offset, size_ - offset};
  }

  std::byte* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }
  std::span<std::byte> bytes() const noexcept { return {data_, size_}; }

 private:
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vnet::dp::net
