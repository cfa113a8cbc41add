// vnet::dhcp — bounds-checked big-endian readers and writers over byte spans.
//
// Theory of operation
//   Both wire codecs (BOOTP/DHCP and DNS) read untrusted bytes. ByteReader
//   never reads past its span: every get_*() returns false (and leaves the
//   output untouched) when the bytes are not there. ByteWriter writes into a
//   caller-provided span and turns every write that would overflow into a
//   sticky failure that the caller checks once at the end (ok()), so builders
//   need no per-field error handling. Integers on the wire are big-endian
//   (network order); values in memory are host order.
//
// Thread-safety
//   Plain values over caller-owned memory; one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace vnet::dhcp {

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> data, size_t offset = 0)
      : data_(data), pos_(offset) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return pos_ <= data_.size() ? data_.size() - pos_ : 0; }
  bool seek(size_t offset) {
    if (offset > data_.size()) return false;
    pos_ = offset;
    return true;
  }
  bool skip(size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  bool get_u8(uint8_t& out) {
    if (remaining() < 1) return false;
    out = std::to_integer<uint8_t>(data_[pos_]);
    pos_ += 1;
    return true;
  }
  bool get_u16(uint16_t& out) {
    if (remaining() < 2) return false;
    out = static_cast<uint16_t>((byte_at(pos_) << 8) | byte_at(pos_ + 1));
    pos_ += 2;
    return true;
  }
  bool get_u32(uint32_t& out) {
    if (remaining() < 4) return false;
    out = (uint32_t{byte_at(pos_)} << 24) | (uint32_t{byte_at(pos_ + 1)} << 16) |
          (uint32_t{byte_at(pos_ + 2)} << 8) | uint32_t{byte_at(pos_ + 3)};
    pos_ += 4;
    return true;
  }
  bool get_bytes(size_t n, std::span<const std::byte>& out) {
    if (n > remaining()) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  uint8_t byte_at(size_t i) const { return std::to_integer<uint8_t>(data_[i]); }

  std::span<const std::byte> data_;
  size_t pos_;
};

class ByteWriter {
 public:
  explicit ByteWriter(std::span<std::byte> out, size_t limit_size = SIZE_MAX)
      : out_(out), limit_(limit_size < out.size() ? limit_size : out.size()) {}

  size_t size() const { return pos_; }  // bytes written so far
  size_t limit() const { return limit_; }
  size_t room() const { return limit_ - pos_; }
  bool ok() const { return ok_; }
  std::span<std::byte> buffer() const { return out_; }
  std::span<const std::byte> written() const { return out_.first(pos_); }

  void put_u8(uint8_t v) {
    if (!reserve(1)) return;
    out_[pos_++] = std::byte{v};
  }
  void put_u16(uint16_t v) {
    if (!reserve(2)) return;
    out_[pos_++] = std::byte(v >> 8);
    out_[pos_++] = std::byte(v & 0xff);
  }
  void put_u32(uint32_t v) {
    if (!reserve(4)) return;
    for (int shift = 24; shift >= 0; shift -= 8) out_[pos_++] = std::byte((v >> shift) & 0xff);
  }
  void put_bytes(std::span<const std::byte> b) {
    if (!reserve(b.size())) return;
    if (!b.empty()) std::memcpy(out_.data() + pos_, b.data(), b.size());
    pos_ += b.size();
  }
  void put_string(std::string_view s) { put_bytes(std::as_bytes(std::span(s.data(), s.size()))); }
  void put_zeros(size_t n) {
    if (!reserve(n)) return;
    std::memset(out_.data() + pos_, 0, n);
    pos_ += n;
  }
  // Overwrite two bytes at an earlier position (for lengths and counts).
  void patch_u16(size_t at, uint16_t v) {
    if (at + 2 > pos_) {
      ok_ = false;
      return;
    }
    out_[at] = std::byte(v >> 8);
    out_[at + 1] = std::byte(v & 0xff);
  }
  // Forget everything after `at` (used to roll back a record that did not fit).
  void truncate(size_t at) {
    if (at <= pos_) pos_ = at;
    ok_ = true;
  }

 private:
  bool reserve(size_t n) {
    if (!ok_ || n > limit_ - pos_) {
      ok_ = false;
      return false;
    }
    return true;
  }

  std::span<std::byte> out_;
  size_t limit_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace vnet::dhcp
