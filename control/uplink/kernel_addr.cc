// vnet::uplink — discover_kernel_ipv4() over raw rtnetlink (see kernel_addr.h).
#include "control/uplink/kernel_addr.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <vector>

namespace vnet::uplink {

namespace {

using xml::IpAddr;
using xml::Result;
using xml::Status;

class NetlinkSocket {
 public:
  NetlinkSocket() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {}
  ~NetlinkSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

IpAddr v4_from(const void* p) {
  IpAddr a;
  a.family = xml::Family::kIpv4;
  std::memcpy(a.bytes.data(), p, 4);
  return a;
}

// Sends one dump request of `type` for AF_INET and calls `on_msg` for every reply
// message until NLMSG_DONE.
Status dump(int fd, uint16_t type, uint32_t seq, const std::function<void(const nlmsghdr*)>& on_msg) {
  struct {
    nlmsghdr h;
    union {
      ifaddrmsg ifa;
      rtmsg rt;
    } body;
  } req{};
  req.h.nlmsg_len = NLMSG_LENGTH(type == RTM_GETADDR ? sizeof(ifaddrmsg) : sizeof(rtmsg));
  req.h.nlmsg_type = type;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = seq;
  if (type == RTM_GETADDR) {
    req.body.ifa.ifa_family = AF_INET;
  } else {
    req.body.rt.rtm_family = AF_INET;
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, &req, req.h.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
    return Status::error(errno_text("netlink sendto"));
  }
  sockaddr_nl local{};
  socklen_t local_len = sizeof(local);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) < 0) {
    return Status::error(errno_text("netlink getsockname"));
  }
  std::vector<char> buf(64 * 1024);
  for (;;) {
    sockaddr_nl from{};
    iovec iov{buf.data(), buf.size()};
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof(from);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(fd, &mh, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::error(errno_text("netlink recvmsg"));
    }
    if (mh.msg_flags & MSG_TRUNC) return Status::error("netlink reply truncated");
    if (from.nl_pid != 0) continue;  // not from the kernel
    auto len = static_cast<unsigned>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq || h->nlmsg_pid != local.nl_pid) continue;
      if (h->nlmsg_type == NLMSG_DONE) return {};
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return Status::error("short netlink error");
        return Status::error(std::string("netlink dump failed: ") + std::strerror(-e->error));
      }
      on_msg(h);
    }
  }
}

}  // namespace

Result<KernelIpv4> discover_kernel_ipv4(const std::string& ifname) {
  using R = Result<KernelIpv4>;
  KernelIpv4 k;
  k.ifname = ifname;
  k.ifindex = ifname.size() < IF_NAMESIZE ? ::if_nametoindex(ifname.c_str()) : 0;
  if (k.ifindex == 0) return R::error("no kernel interface '" + ifname + "'");
  NetlinkSocket sock;
  if (sock.fd() < 0) return R::error(errno_text("netlink socket"));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(sock.fd(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0) {
    return R::error(errno_text("netlink bind"));
  }

  auto st = dump(sock.fd(), RTM_GETADDR, 1, [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWADDR || k.address) return;
    const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
    if (ifa->ifa_family != AF_INET || ifa->ifa_index != k.ifindex) return;
    if (ifa->ifa_flags & IFA_F_SECONDARY) return;
    std::optional<IpAddr> local_addr, addr;
    int len = static_cast<int>(IFA_PAYLOAD(h));
    for (auto* a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      if (RTA_PAYLOAD(a) < 4) continue;
      if (a->rta_type == IFA_LOCAL) local_addr = v4_from(RTA_DATA(a));
      if (a->rta_type == IFA_ADDRESS) addr = v4_from(RTA_DATA(a));
    }
    if (local_addr || addr) {
      k.address = local_addr ? local_addr : addr;
      k.prefix = ifa->ifa_prefixlen;
    }
  });
  if (!st) return R::error(st.error());

  uint32_t best_metric = 0;
  st = dump(sock.fd(), RTM_GETROUTE, 2, [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWROUTE) return;
    const auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(h));
    if (rt->rtm_family != AF_INET || rt->rtm_dst_len != 0 || rt->rtm_type != RTN_UNICAST) return;
    uint32_t table = rt->rtm_table, metric = 0, oif = 0;
    std::optional<IpAddr> gw;
    int len = static_cast<int>(RTM_PAYLOAD(h));
    for (auto* a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      const size_t plen = RTA_PAYLOAD(a);
      if (a->rta_type == RTA_TABLE && plen >= 4) std::memcpy(&table, RTA_DATA(a), 4);
      if (a->rta_type == RTA_PRIORITY && plen >= 4) std::memcpy(&metric, RTA_DATA(a), 4);
      if (a->rta_type == RTA_OIF && plen >= 4) std::memcpy(&oif, RTA_DATA(a), 4);
      if (a->rta_type == RTA_GATEWAY && plen >= 4) gw = v4_from(RTA_DATA(a));
      if (a->rta_type == RTA_MULTIPATH && !gw) {
        // A nexthop through our interface with a gateway.
        auto* nh = static_cast<const rtnexthop*>(RTA_DATA(a));
        int nlen = static_cast<int>(plen);
        while (RTNH_OK(nh, nlen)) {
          if (static_cast<unsigned>(nh->rtnh_ifindex) == k.ifindex) {
            int alen = static_cast<int>(nh->rtnh_len) - static_cast<int>(RTNH_LENGTH(0));
            for (auto* na = RTNH_DATA(nh); RTA_OK(na, alen); na = RTA_NEXT(na, alen)) {
              if (na->rta_type == RTA_GATEWAY && RTA_PAYLOAD(na) >= 4) {
                gw = v4_from(RTA_DATA(na));
                oif = k.ifindex;
              }
            }
            if (gw) break;
          }
          nlen -= NLMSG_ALIGN(nh->rtnh_len);
          nh = RTNH_NEXT(nh);
        }
      }
    }
    if (table != RT_TABLE_MAIN || oif != k.ifindex || !gw) return;
    if (!k.gateway || metric < best_metric) {
      k.gateway = gw;
      best_metric = metric;
    }
  });
  if (!st) return R::error(st.error());
  return k;
}

}  // namespace vnet::uplink
