// Tests for dhcp/lease_db: allocation policy, expiry, static hosts,
// lease-max, decline, persistence.
#include "dhcp/lease_db.h"

#include <gtest/gtest.h>

#include <set>

#include "test_support.h"

namespace vnet::dhcp {
namespace {

using test::FakeClock;
using test::ip;
using test::mac;

ServerConfig base_config() {
  ServerConfig c;
  c.server_ip = ip("192.168.122.1");
  c.prefix_len = 24;
  c.ranges.push_back(DhcpRange{ip("192.168.122.2"), ip("192.168.122.254"), std::nullopt});
  return c;
}

ClientKey client(const char* m) { return ClientKey{mac(m), {}}; }

ClientKey client_n(int n) {
  Mac m = mac("52:54:00:00:00:00");
  m.bytes[4] = static_cast<uint8_t>(n >> 8);
  m.bytes[5] = static_cast<uint8_t>(n);
  return ClientKey{m, {}};
}

TEST(LeaseDb, OffersFromRangeNeverGatewayOrStaticAddresses) {
  ServerConfig c = base_config();
  c.ranges = {DhcpRange{ip("192.168.122.1"), ip("192.168.122.6"), std::nullopt}};  // includes the gateway
  c.hosts.push_back(StaticHost{mac("00:16:3e:77:e2:ed"), "a", ip("192.168.122.3"), std::nullopt});
  FakeClock clock;
  LeaseDb db(c, clock);
  std::set<Ipv4> given;
  for (int i = 0; i < 10; ++i) {
    const ClientKey k = client_n(i);
    const auto a = db.choose_address(k, nullptr, std::nullopt);
    if (!a) break;
    ASSERT_EQ(db.commit(*a, k, 3600), CommitResult::kOk);
    given.insert(*a);
  }
  EXPECT_EQ(given.size(), 4u);  // .2 .4 .5 .6
  EXPECT_FALSE(given.contains(ip("192.168.122.1")));
  EXPECT_FALSE(given.contains(ip("192.168.122.3")));
  // The pool is exhausted now.
  EXPECT_FALSE(db.choose_address(client_n(99), nullptr, std::nullopt));
  // ... but the static host still gets its address.
  const StaticHost* h = db.static_host_for(mac("00:16:3e:77:e2:ed"), "");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(db.choose_address(client("00:16:3e:77:e2:ed"), h, std::nullopt), ip("192.168.122.3"));
}

TEST(LeaseDb, StaticAddressOutsideRangesAndStaticOnly) {
  ServerConfig c = base_config();
  c.ranges.clear();  // static-only DHCP
  c.hosts.push_back(StaticHost{mac("00:16:3e:00:00:01"), "", ip("192.168.122.200"), std::nullopt});
  FakeClock clock;
  LeaseDb db(c, clock);
  const StaticHost* h = db.static_host_for(mac("00:16:3e:00:00:01"), "");
  EXPECT_EQ(db.choose_address(client("00:16:3e:00:00:01"), h, std::nullopt), ip("192.168.122.200"));
  EXPECT_FALSE(db.choose_address(client("00:16:3e:00:00:02"), nullptr, std::nullopt));
  EXPECT_EQ(c.effective_lease_max(), kDefaultLeaseMax);
}

TEST(LeaseDb, ReturningClientGetsItsAddressAlsoAfterExpiry) {
  FakeClock clock;
  LeaseDb db(base_config(), clock);
  const ClientKey a = client("52:54:00:aa:bb:cc");
  const auto first = db.choose_address(a, nullptr, std::nullopt);
  ASSERT_TRUE(first);
  ASSERT_EQ(db.commit(*first, a, 3600), CommitResult::kOk);
  EXPECT_EQ(db.choose_address(a, nullptr, std::nullopt), first);
  clock.advance_s(3601);
  EXPECT_EQ(db.active_count(), 0u);
  EXPECT_FALSE(db.find_active_by_ip(*first));
  EXPECT_EQ(db.choose_address(a, nullptr, std::nullopt), first);
  // A different client is steered away from a's old address while others are free.
  for (int i = 0; i < 200; ++i) {
    const ClientKey k = client_n(i);
    const auto x = db.choose_address(k, nullptr, std::nullopt);
    ASSERT_TRUE(x);
    EXPECT_NE(*x, *first);
  }
}

TEST(LeaseDb, RequestedAddressHonouredWhenFree) {
  FakeClock clock;
  LeaseDb db(base_config(), clock);
  EXPECT_EQ(db.choose_address(client_n(1), nullptr, ip("192.168.122.77")), ip("192.168.122.77"));
  ASSERT_EQ(db.commit(ip("192.168.122.77"), client_n(1), 3600), CommitResult::kOk);
  EXPECT_NE(db.choose_address(client_n(2), nullptr, ip("192.168.122.77")), ip("192.168.122.77"));
  // Outside the subnet or the ranges: ignored.
  EXPECT_NE(db.choose_address(client_n(3), nullptr, ip("10.0.0.5")), ip("10.0.0.5"));
  EXPECT_NE(db.choose_address(client_n(3), nullptr, ip("192.168.122.255")), ip("192.168.122.255"));
}

TEST(LeaseDb, OfferHoldReservesForAMinute) {
  ServerConfig c = base_config();
  c.ranges = {DhcpRange{ip("192.168.122.10"), ip("192.168.122.10"), std::nullopt}};
  FakeClock clock;
  LeaseDb db(c, clock);
  ASSERT_EQ(db.choose_address(client_n(1), nullptr, std::nullopt), ip("192.168.122.10"));
  db.hold_offer(ip("192.168.122.10"), client_n(1));
  EXPECT_FALSE(db.choose_address(client_n(2), nullptr, std::nullopt));
  clock.advance_s(kOfferHoldS);
  db.expire();
  EXPECT_EQ(db.choose_address(client_n(2), nullptr, std::nullopt), ip("192.168.122.10"));
}

TEST(LeaseDb, StaticHostLookupByMacThenByName) {
  ServerConfig c = base_config();
  c.hosts.push_back(StaticHost{mac("00:16:3e:77:e2:ed"), "a.example.com", ip("192.168.122.10"), std::nullopt});
  c.hosts.push_back(StaticHost{std::nullopt, "vm7", ip("192.168.122.77"), std::nullopt});
  FakeClock clock;
  LeaseDb db(c, clock);
  EXPECT_EQ(db.static_host_for(mac("00:16:3e:77:e2:ed"), "")->ip, ip("192.168.122.10"));
  EXPECT_EQ(db.static_host_for(mac("52:54:00:00:00:09"), "vm7")->ip, ip("192.168.122.77"));
  EXPECT_EQ(db.static_host_for(mac("52:54:00:00:00:09"), "VM7.other.domain")->ip, ip("192.168.122.77"));
  // Names never select a host that has a MAC (no impersonation).
  EXPECT_EQ(db.static_host_for(mac("52:54:00:00:00:09"), "a"), nullptr);
  EXPECT_EQ(db.static_host_by_ip(ip("192.168.122.77"))->name, "vm7");
}

TEST(LeaseDb, ClientIdentifierDecidesWhenBothHaveOne) {
  FakeClock clock;
  LeaseDb db(base_config(), clock);
  ClientKey k{mac("52:54:00:00:00:01"), test::bytes({1, 0xaa, 0xbb})};
  ASSERT_EQ(db.commit(ip("192.168.122.50"), k, 3600), CommitResult::kOk);
  // Same client id, new NIC: same client.
  EXPECT_NE(db.find_by_client(ClientKey{mac("52:54:00:00:00:02"), test::bytes({1, 0xaa, 0xbb})}), nullptr);
  // Same MAC, other client id: someone else.
  EXPECT_EQ(db.find_by_client(ClientKey{mac("52:54:00:00:00:01"), test::bytes({1, 0xcc, 0xdd})}), nullptr);
  // Same MAC, no client id: matched by MAC.
  EXPECT_NE(db.find_by_client(client("52:54:00:00:00:01")), nullptr);
}

TEST(LeaseDb, LeaseMax) {
  ServerConfig c = base_config();
  c.lease_max = 2;
  FakeClock clock;
  LeaseDb db(c, clock);
  ASSERT_EQ(db.commit(ip("192.168.122.10"), client_n(1), 100 * 60), CommitResult::kOk);
  ASSERT_EQ(db.commit(ip("192.168.122.11"), client_n(2), 200), CommitResult::kOk);
  EXPECT_EQ(db.commit(ip("192.168.122.12"), client_n(3), 3600), CommitResult::kLeaseMax);
  // Renewals of existing leases are not limited.
  EXPECT_EQ(db.commit(ip("192.168.122.10"), client_n(1), 3600), CommitResult::kOk);
  clock.advance_s(201);  // client 2's lease expires
  EXPECT_EQ(db.commit(ip("192.168.122.12"), client_n(3), 3600), CommitResult::kOk);
  // The derived maximum is the sum of the range sizes (libvirt's dhcp-lease-max).
  EXPECT_EQ(base_config().effective_lease_max(), 253u);
}

TEST(LeaseDb, DeclineTakesTheAddressOutForTenMinutes) {
  FakeClock clock;
  LeaseDb db(base_config(), clock);
  const ClientKey k = client_n(1);
  ASSERT_EQ(db.commit(ip("192.168.122.20"), k, 3600), CommitResult::kOk);
  db.decline(ip("192.168.122.20"), k);
  EXPECT_EQ(db.active_count(), 0u);
  EXPECT_TRUE(db.is_declined(ip("192.168.122.20")));
  EXPECT_FALSE(db.address_available(ip("192.168.122.20"), client_n(2), nullptr));
  EXPECT_NE(db.choose_address(k, nullptr, ip("192.168.122.20")), ip("192.168.122.20"));
  clock.advance_s(kDeclineBackoffS);
  db.expire();
  EXPECT_TRUE(db.address_available(ip("192.168.122.20"), client_n(2), nullptr));
}

TEST(LeaseDb, ReleaseKeepsHistory) {
  FakeClock clock;
  LeaseDb db(base_config(), clock);
  const ClientKey k = client_n(5);
  ASSERT_EQ(db.commit(ip("192.168.122.30"), k, 3600), CommitResult::kOk);
  EXPECT_FALSE(db.release(ip("192.168.122.31"), k));
  EXPECT_FALSE(db.release(ip("192.168.122.30"), client_n(6)));
  EXPECT_TRUE(db.release(ip("192.168.122.30"), k));
  EXPECT_EQ(db.active_count(), 0u);
  EXPECT_EQ(db.choose_address(k, nullptr, std::nullopt), ip("192.168.122.30"));
}

TEST(LeaseDb, LeaseTimes) {
  ServerConfig c = base_config();
  c.ranges[0].lease_s = 600;
  c.hosts.push_back(StaticHost{mac("00:16:3e:77:e2:ed"), "a", ip("192.168.122.10"), 1200});
  c.hosts.push_back(StaticHost{mac("00:16:3e:77:e2:ee"), "b", ip("192.168.122.11"), kInfiniteLease});
  FakeClock clock;
  LeaseDb db(c, clock);
  EXPECT_EQ(db.lease_time_for(ip("192.168.122.50"), nullptr, std::nullopt), 600u);
  EXPECT_EQ(db.lease_time_for(ip("192.168.122.50"), nullptr, 300u), 300u);
  EXPECT_EQ(db.lease_time_for(ip("192.168.122.50"), nullptr, 5u), kMinLeaseS);
  EXPECT_EQ(db.lease_time_for(ip("192.168.122.50"), nullptr, 99999u), 600u);
  EXPECT_EQ(db.lease_time_for(ip("192.168.122.10"), &c.hosts[0], std::nullopt), 1200u);
  EXPECT_EQ(db.lease_time_for(ip("192.168.122.11"), &c.hosts[1], std::nullopt), kInfiniteLease);
  EXPECT_EQ(db.lease_time_for(ip("192.168.122.11"), &c.hosts[1], 7200u), 7200u);
  ServerConfig d = base_config();
  LeaseDb db2(d, clock);
  EXPECT_EQ(db2.lease_time_for(ip("192.168.122.50"), nullptr, std::nullopt), kDefaultLeaseS);
}

TEST(LeaseDb, HostNamesAreUniqueAndConfigWins) {
  FakeClock clock;
  LeaseDb db(base_config(), clock);
  Lease* a = nullptr;
  Lease* b = nullptr;
  ASSERT_EQ(db.commit(ip("192.168.122.10"), client_n(1), 3600, &a), CommitResult::kOk);
  db.set_hostname(*a, "vm.example.com", false);
  EXPECT_EQ(db.lease_hostname(ip("192.168.122.10")), "vm");
  ASSERT_EQ(db.commit(ip("192.168.122.11"), client_n(2), 3600, &b), CommitResult::kOk);
  db.set_hostname(*b, "VM", false);  // the newer lease takes the name
  EXPECT_FALSE(db.lease_hostname(ip("192.168.122.10")));
  EXPECT_EQ(db.lease_addresses("vm"), std::vector<Ipv4>{ip("192.168.122.11")});

  Lease* c = nullptr;
  ASSERT_EQ(db.commit(ip("192.168.122.12"), client_n(3), 3600, &c), CommitResult::kOk);
  db.set_hostname(*c, "db", true);
  Lease* d = nullptr;
  ASSERT_EQ(db.commit(ip("192.168.122.13"), client_n(4), 3600, &d), CommitResult::kOk);
  db.set_hostname(*d, "db", false);  // a client may not steal a configured name
  EXPECT_EQ(db.lease_addresses("db"), std::vector<Ipv4>{ip("192.168.122.12")});
  EXPECT_FALSE(db.lease_hostname(ip("192.168.122.13")));

  clock.advance_s(3601);
  EXPECT_TRUE(db.lease_addresses("db").empty());
}

TEST(LeaseDb, PersistenceRoundTrip) {
  FakeClock clock(1'700'000'000);
  LeaseDb db(base_config(), clock);
  Lease* l = nullptr;
  ASSERT_EQ(db.commit(ip("192.168.122.45"), client("52:54:00:aa:bb:cc"), 3600, &l), CommitResult::kOk);
  db.set_hostname(*l, "vm1", false);
  ClientKey with_id{mac("52:54:00:aa:bb:dd"), test::bytes({0x01, 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xdd})};
  ASSERT_EQ(db.commit(ip("192.168.122.9"), with_id, kInfiniteLease), CommitResult::kOk);
  const std::string text = db.serialize();
  EXPECT_EQ(text,
            "0 52:54:00:aa:bb:dd 192.168.122.9 * 01:52:54:00:aa:bb:dd\n"
            "1700003600 52:54:00:aa:bb:cc 192.168.122.45 vm1 *\n");

  LeaseDb back(base_config(), clock);
  const LeaseLoadStats st = back.load(text);
  EXPECT_EQ(st.loaded, 2u);
  EXPECT_EQ(st.corrupt, 0u);
  EXPECT_EQ(back.serialize(), text);
  EXPECT_EQ(back.lease_hostname(ip("192.168.122.45")), "vm1");
  EXPECT_NE(back.find_by_client(with_id), nullptr);
}

TEST(LeaseDb, CorruptLinesAreSkippedAndCounted) {
  FakeClock clock(1'700'000'000);
  LeaseDb db(base_config(), clock);
  const std::string text =
      "1700003600 52:54:00:00:00:01 192.168.122.10 good *\n"
      "garbage\n"
      "1700003600 52:54:00:00:00:02 192.168.122.11 name\n"          // 4 fields
      "17000036xx 52:54:00:00:00:03 192.168.122.12 * *\n"           // bad expiry
      "1700003600 52:54:00:00:00:zz 192.168.122.13 * *\n"           // bad MAC
      "1700003600 52:54:00:00:00:05 192.168.122.300 * *\n"          // bad IP
      "1700003600 52:54:00:00:00:06 192.168.122.16 bad!name *\n"    // illegal name
      "1700003600 52:54:00:00:00:07 192.168.122.17 * 01:gg\n"       // bad client id
      "1700003600 52:54:00:00:00:08 10.0.0.8 * *\n"                 // other subnet
      "1700003600 52:54:00:00:00:09 192.168.122.10 * *\n"           // duplicate address
      "1600000000 52:54:00:00:00:0a 192.168.122.20 old *\n"         // expired
      "\n"
      "0 52:54:00:00:00:0b 192.168.122.21 forever *\n"
      "duid 00:01:00:01:2c:5f:8d:7a:52:54:00:00:00:01\n"            // the DHCPv6 section: not ours
      "0 52:54:00:00:00:0c 192.168.122.22 v4-after-duid *\n"
      "1700003600 1234 2001:db8::10 * 00:01:00:01:2c:5f:8d:7a:52:54:00:00:00:02";  // no final newline
  const LeaseLoadStats st = db.load(text);
  EXPECT_EQ(st.loaded, 2u);
  EXPECT_EQ(st.expired, 1u);
  EXPECT_EQ(st.corrupt, 7u);
  EXPECT_EQ(st.foreign, 2u);
  EXPECT_EQ(db.active_count(), 2u);
  // The expired record still steers its client back to its address.
  EXPECT_EQ(db.choose_address(client("52:54:00:00:00:0a"), nullptr, std::nullopt), ip("192.168.122.20"));
  // Binary junk never crashes.
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 7919) & 0xff));
  db.load(junk);
}

TEST(LeaseDb, HexColon) {
  EXPECT_EQ(format_hex_colon(test::bytes({0x01, 0xab, 0x00})), "01:ab:00");
  EXPECT_EQ(parse_hex_colon("01:ab:0"), test::bytes({0x01, 0xab, 0x00}));
  EXPECT_FALSE(parse_hex_colon(""));
  EXPECT_FALSE(parse_hex_colon("01::02"));
  EXPECT_FALSE(parse_hex_colon("012"));
}

}  // namespace
}  // namespace vnet::dhcp
