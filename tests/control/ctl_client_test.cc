// CtlClient against a scripted server on a unix socket: responses far longer
// than a request may be (fdb-show of millions of MACs) arrive whole and in
// reasonable time; a response beyond kMaxResponseBytes is refused.
#include "control/ctl_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "control/protocol.h"

namespace vnet::ctl {
namespace {

// Listens on `path`, answers one request with `response` + '\n', closes.
class OneShotServer {
 public:
  OneShotServer(const std::string& path, std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    ::unlink(path.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      std::string req;
      while (req.find('\n') == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      const std::string out = response_ + "\n";
      size_t off = 0;
      while (off < out.size()) {
        const ssize_t n = ::send(c, out.data() + off, out.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      ::close(c);
    });
  }
  ~OneShotServer() {
    thread_.join();
    ::close(fd_);
  }

 private:
  std::string response_;
  int fd_ = -1;
  std::thread thread_;
};

std::string socket_path(const char* tag) {
  return (std::filesystem::temp_directory_path() / ("vnet-ctl-client-" + std::to_string(::getpid()) + tag))
      .string();
}

TEST(CtlClient, ResponseLongerThanARequestLineArrivesWhole) {
  const std::string path = socket_path("a");
  const std::string big(kMaxLineBytes * 3, 'm');  // 48 MiB of payload
  OneShotServer server(path, R"({"ok":true,"result":")" + big + R"("})");
  CtlClient client(path, std::chrono::seconds(30));
  ASSERT_TRUE(client.connect().ok());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = client.call("fdb-show", nlohmann::json{{"network", "n"}});
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->get<std::string>().size(), big.size());
  // Each read scans only the new bytes for the newline: linear, not quadratic.
  EXPECT_LT(took, std::chrono::seconds(10));
  ::unlink(path.c_str());
}

TEST(CtlClient, ResponseBeyondTheLimitIsRefused) {
  const std::string path = socket_path("b");
  OneShotServer server(path, std::string(size_t{4} << 20, 'x'));
  CtlClient client(path, std::chrono::seconds(30), size_t{1} << 20);
  ASSERT_TRUE(client.connect().ok());
  auto r = client.call("fdb-show", nlohmann::json{{"network", "n"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "response from vnetd too long");
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace vnet::ctl
