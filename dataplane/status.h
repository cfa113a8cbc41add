// vnet::dp — Status and Result<T> for the dataplane's control-side API.
//
// Theory of operation
//   C++20 has no std::expected. Control-side functions of the dataplane
//   (EAL bootstrap, port setup, the Dataplane facade) return a Status (ok or
//   an error code + message) or a Result<T> (a value or a Status). The fast
//   path never uses them: it writes verdicts and counts drop reasons.
//
// Thread-safety
//   Plain values; no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace vnet::dp {

enum class StatusCode : uint8_t {
  kOk,
  kInvalidArgument,  // bad name, bad VLAN, out of range, ...
  kNotFound,         // no such network / port
  kAlreadyExists,    // duplicate name
  kResourceExhausted,  // no port ids, ring/mempool allocation failed
  kTimeout,          // grace period or slow-path command did not complete
  kInternal,         // DPDK call failed
};

const char* status_code_name(StatusCode code) noexcept;

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const noexcept { return code_ == StatusCode::kOk; }
  explicit operator bool() const noexcept { return is_ok(); }
  StatusCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // "not_found: no network 'x'"
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}    // NOLINT: must not be ok
  bool is_ok() const noexcept { return std::holds_alternative<T>(v_); }
  explicit operator bool() const noexcept { return is_ok(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }
  Status status() const { return is_ok() ? Status{} : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vnet::dp
