// vnet::ctl — a small leveled logger for vnetd (stderr by default).
//
// Theory of operation
//   vnetd runs in the foreground and logs one line per event to stderr, where
//   systemd's journal (or the terminal) picks it up. Each line is
//   "<level>: <message>". Messages below the configured level are dropped.
//   There is no global logger: main() builds one and hands it by reference to
//   every component that logs (house rule 10).
//
// Thread-safety
//   A Logger is used by the control thread only. log() writes one whole line
//   with a single stream insertion and flush, so an accidental second writer
//   cannot interleave inside a line, but no other guarantee is given.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace vnet::ctl {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

const char* log_level_name(LogLevel level);
// "debug", "info", "warning" (or "warn"), "error"; nullopt otherwise.
std::optional<LogLevel> parse_log_level(std::string_view s);

class Logger {
 public:
  explicit Logger(LogLevel min_level);
  Logger(LogLevel min_level, std::ostream& out);

  void set_level(LogLevel level) { min_level_ = level; }
  LogLevel level() const { return min_level_; }
  bool enabled(LogLevel level) const { return level >= min_level_; }

  void log(LogLevel level, std::string_view msg);
  void debug(std::string_view msg) { log(LogLevel::kDebug, msg); }
  void info(std::string_view msg) { log(LogLevel::kInfo, msg); }
  void warning(std::string_view msg) { log(LogLevel::kWarning, msg); }
  void error(std::string_view msg) { log(LogLevel::kError, msg); }

 private:
  LogLevel min_level_;  // lines below this level are dropped
  std::ostream* out_;   // not owned; std::cerr by default
};

}  // namespace vnet::ctl
