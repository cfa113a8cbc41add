#include "control/protocol.h"

#include <gtest/gtest.h>

namespace vnet::ctl {
namespace {

using nlohmann::json;

TEST(Protocol, ParsesRequestWithArgs) {
  auto r = parse_request(R"({"cmd":"net-start","args":{"network":"default"}})" "\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->cmd, "net-start");
  EXPECT_EQ(r->args["network"], "default");
}

TEST(Protocol, ArgsDefaultToEmptyObject) {
  for (const char* line : {R"({"cmd":"net-list"})", R"({"cmd":"net-list","args":null})"}) {
    auto r = parse_request(line);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_TRUE(r->args.is_object());
    EXPECT_TRUE(r->args.empty());
  }
}

TEST(Protocol, RejectsMalformedRequests) {
  EXPECT_EQ(parse_request("{not json").error(), "malformed request: not valid JSON");
  EXPECT_EQ(parse_request("").error(), "malformed request: not valid JSON");
  EXPECT_EQ(parse_request("[1,2]").error(), "malformed request: not a JSON object");
  EXPECT_EQ(parse_request(R"({"args":{}})").error(), "malformed request: missing string member 'cmd'");
  EXPECT_EQ(parse_request(R"({"cmd":5})").error(), "malformed request: missing string member 'cmd'");
  EXPECT_EQ(parse_request(R"({"cmd":"x","args":[]})").error(), "malformed request: 'args' must be an object");
}

TEST(Protocol, ToleratesCrLf) {
  auto r = parse_request("{\"cmd\":\"ping\"}\r\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->cmd, "ping");
}

TEST(Protocol, ResponsesAreSingleLines) {
  json result = json::object();
  result["xml"] = "<network>\n  <name>x</name>\n</network>\n";
  const std::string ok = format_ok(result);
  ASSERT_FALSE(ok.empty());
  EXPECT_EQ(ok.back(), '\n');
  EXPECT_EQ(ok.find('\n'), ok.size() - 1);
  EXPECT_EQ(ok, "{\"ok\":true,\"result\":{\"xml\":\"<network>\\n  <name>x</name>\\n</network>\\n\"}}\n");

  const std::string err = format_error("first line\nsecond line\n");
  EXPECT_EQ(err, "{\"error\":\"first line second line\",\"ok\":false}\n");
}

TEST(Protocol, InvalidUtf8DoesNotThrow) {
  json result = json::object();
  result["xml"] = std::string("caf\xe9");
  std::string line;
  EXPECT_NO_THROW(line = format_ok(result));
  EXPECT_NE(line.find("caf\xef\xbf\xbd"), std::string::npos);
}

TEST(Protocol, RequestRoundTrip) {
  json args = json::object();
  args["network"] = "default";
  const std::string line = format_request("net-info", args);
  EXPECT_EQ(line, "{\"args\":{\"network\":\"default\"},\"cmd\":\"net-info\"}\n");
  auto r = parse_request(line);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cmd, "net-info");
  EXPECT_EQ(r->args, args);
}

TEST(Protocol, ParsesResponses) {
  auto ok = parse_response(format_ok(json::array()));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->ok);
  EXPECT_TRUE(ok->result.is_array());

  auto err = parse_response(format_error("network is not active"));
  ASSERT_TRUE(err.ok());
  EXPECT_FALSE(err->ok);
  EXPECT_EQ(err->error, "network is not active");

  EXPECT_FALSE(parse_response("garbage").ok());
  EXPECT_FALSE(parse_response("{\"result\":1}").ok());
}

TEST(Protocol, NetworkInfoJson) {
  NetworkInfo info;
  info.name = "default";
  info.uuid = "c6a3f2a6-7d0e-4c57-9a50-6a3d2b1f2e11";
  info.active = true;
  info.persistent = true;
  json j = to_json(info);
  EXPECT_EQ(j["name"], "default");
  EXPECT_EQ(j["active"], true);
  EXPECT_EQ(j["autostart"], false);
  EXPECT_TRUE(j["bridge"].is_null());
  info.bridge = "virbr0";
  EXPECT_EQ(to_json(info)["bridge"], "virbr0");
}

}  // namespace
}  // namespace vnet::ctl
