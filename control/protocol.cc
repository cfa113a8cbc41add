#include "control/protocol.h"

namespace vnet::ctl {

using nlohmann::json;

std::string to_json_text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string one_line(std::string_view msg) {
  std::string out(msg);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

xml::Result<Request> parse_request(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return xml::Result<Request>::error("malformed request: not valid JSON");
  if (!j.is_object()) return xml::Result<Request>::error("malformed request: not a JSON object");
  auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_string()) {
    return xml::Result<Request>::error("malformed request: missing string member 'cmd'");
  }
  Request req;
  req.cmd = cmd->get<std::string>();
  auto args = j.find("args");
  if (args == j.end() || args->is_null()) {
    req.args = json::object();
  } else if (args->is_object()) {
    req.args = *args;
  } else {
    return xml::Result<Request>::error("malformed request: 'args' must be an object");
  }
  return req;
}

std::string format_request(std::string_view cmd, const json& args) {
  json j = json::object();
  j["cmd"] = std::string(cmd);
  j["args"] = args.is_null() ? json::object() : args;
  return to_json_text(j) + "\n";
}

std::string format_ok(const json& result) {
  json j = json::object();
  j["ok"] = true;
  j["result"] = result;
  return to_json_text(j) + "\n";
}

std::string format_error(std::string_view msg) {
  json j = json::object();
  j["ok"] = false;
  j["error"] = one_line(msg);
  return to_json_text(j) + "\n";
}

xml::Result<Response> parse_response(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return xml::Result<Response>::error("malformed response from vnetd");
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) return xml::Result<Response>::error("malformed response from vnetd");
  Response r;
  r.ok = ok->get<bool>();
  if (r.ok) {
    auto res = j.find("result");
    r.result = res == j.end() ? json() : *res;
  } else {
    auto err = j.find("error");
    r.error = (err != j.end() && err->is_string()) ? err->get<std::string>() : "unknown error";
  }
  return r;
}

json to_json(const NetworkInfo& info) {
  json j = json::object();
  j["name"] = info.name;
  j["uuid"] = info.uuid;
  j["active"] = info.active;
  j["persistent"] = info.persistent;
  j["autostart"] = info.autostart;
  j["bridge"] = info.bridge.empty() ? json() : json(info.bridge);
  return j;
}

}  // namespace vnet::ctl
