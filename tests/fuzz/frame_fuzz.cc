// libFuzzer target: whole Ethernet frames into dhcp::Gateway (frame parsing,
// ARP, ICMP, UDP dispatch, DHCP and DNS behind them). Frames the gateway
// sends back must be at least the Ethernet minimum and parse cleanly.
#include <cstdlib>

#include "fuzz_support.h"

using namespace vnet::dhcp;

namespace {

class CheckingSink final : public FrameSink {
 public:
  bool send(std::span<const uint8_t> frame, uint16_t) override {
    ParsedFrame f;
    if (frame.size() < kEthMinFrameSize || parse_frame(frame, f) != FrameError::kOk) std::abort();
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::FixedClock clock;
  static SeededRng rng(2);
  static Gateway gateway(fuzz::network(), clock, rng);
  CheckingSink out;
  gateway.on_frame(std::span<const uint8_t>(data, size), 0, out);
  return 0;
}
