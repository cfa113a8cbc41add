// vnet::ctl — the control-socket wire format (see control/PROTOCOL.md).
//
// Theory of operation
//   One request and one response per line, each a JSON object terminated by
//   '\n' (JSON text never contains a raw newline, so a line is a message):
//     request   {"cmd":"net-start","args":{"network":"default"}}
//     response  {"ok":true,"result":...}  or  {"ok":false,"error":"one line"}
//   "args" may be omitted (= {}). A client may send several requests on one
//   connection; responses come back in order. Request lines longer than
//   kMaxLineBytes are refused and the connection is closed. Responses may
//   be longer (fdb-show of a table with millions of MACs is ~75 bytes per
//   entry): clients accept up to kMaxResponseBytes.
//   Serialisation never throws on odd bytes: invalid UTF-8 inside strings
//   (e.g. in an XML file) is replaced with U+FFFD.
//
// Thread-safety
//   Pure functions over values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "control/registry.h"
#include "xml/network_xml.h"

namespace vnet::ctl {

inline constexpr size_t kMaxLineBytes = size_t{16} << 20;      // 16 MiB per request line
inline constexpr size_t kMaxResponseBytes = size_t{1} << 30;  // 1 GiB per response line

struct Request {
  std::string cmd;       // "net-define", ...
  nlohmann::json args;   // always an object
};

struct Response {
  bool ok = false;
  nlohmann::json result;  // when ok
  std::string error;      // when !ok
};

// Serialise without throwing; no newline.
std::string to_json_text(const nlohmann::json& j);
// An error message fit for one line (newlines become spaces).
std::string one_line(std::string_view msg);

xml::Result<Request> parse_request(std::string_view line);
std::string format_request(std::string_view cmd, const nlohmann::json& args);  // ends with '\n'
std::string format_ok(const nlohmann::json& result);                            // ends with '\n'
std::string format_error(std::string_view msg);                                 // ends with '\n'
xml::Result<Response> parse_response(std::string_view line);

nlohmann::json to_json(const NetworkInfo& info);

}  // namespace vnet::ctl
