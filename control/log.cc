#include "control/log.h"

#include <iostream>
#include <string>

namespace vnet::ctl {

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

std::optional<LogLevel> parse_log_level(std::string_view s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "warning" || s == "warn") return LogLevel::kWarning;
  if (s == "error") return LogLevel::kError;
  return std::nullopt;
}

Logger::Logger(LogLevel min_level) : Logger(min_level, std::cerr) {}

Logger::Logger(LogLevel min_level, std::ostream& out) : min_level_(min_level), out_(&out) {}

void Logger::log(LogLevel level, std::string_view msg) {
  if (!enabled(level)) return;
  std::string line;
  line.reserve(msg.size() + 16);
  line += log_level_name(level);
  line += ": ";
  for (char c : msg) line += (c == '\n') ? ' ' : c;  // one event, one line
  line += '\n';
  *out_ << line << std::flush;
}

}  // namespace vnet::ctl
