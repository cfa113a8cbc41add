// libFuzzer target for the libvirt <network> XML parser.
//
// Any input: parsing never crashes. Input that parses: formatting it and
// parsing the result again gives the same XML (the formatter's output is a
// fixed point), and the define-time checks never crash either.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "xml/network_xml.h"

namespace {

void fixed_random(uint8_t* out, size_t n) { std::memset(out, 0x5a, n); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto def = vnet::xml::parse_network_xml(in, fixed_random);
  if (!def) return 0;
  (void)vnet::xml::validate_for_define(def.value());
  const std::string once = vnet::xml::format_network_xml(def.value());
  auto again = vnet::xml::parse_network_xml(once, fixed_random);
  if (!again) std::abort();  // our own output must parse
  if (vnet::xml::format_network_xml(again.value()) != once) std::abort();
  return 0;
}
