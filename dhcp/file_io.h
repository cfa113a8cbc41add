// vnet::dhcp — whole-file reads and crash-safe whole-file writes.
//
// Theory of operation
//   write_file_atomic() writes `path` so that a reader (or a restart after a
//   crash) sees either the old or the new content, never a mix: the data goes
//   to "<path>.tmp", is fsync()ed, renamed over `path`, and the directory is
//   fsync()ed so the rename itself is durable (DESIGN.md "On disk").
//
// Thread-safety
//   Plain functions; concurrent writers of the same path must be serialised
//   by the caller (the gateway writes its lease file from one thread).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vnet::dhcp {

// True on success; on failure `error` (if given) gets "<step>: <strerror>".
bool write_file_atomic(const std::string& path, std::string_view data, std::string* error = nullptr);

enum class ReadStatus : unsigned char { kOk, kMissing, kError };
// Reads the whole file into `out`. kMissing when it does not exist.
ReadStatus read_whole_file(const std::string& path, std::string& out, std::string* error = nullptr);

}  // namespace vnet::dhcp
