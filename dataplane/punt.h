// vnet::dp — the network's host side (the gateway service) as seen by the switch.
//
// Theory of operation
//   Each network with a gateway has an internal ring-backed port, the gateway
//   port. The switch treats it like any other port: it learns the gateway MAC
//   on it (installed statically when the handler is attached), forwards
//   unicast to that MAC there, and floods broadcast/multicast/unknown unicast
//   there too. The gateway port is never isolated.
//   The dataplane's slow-path thread drains the gateway port's output ring,
//   hands every frame (VLAN tag stripped, VLAN id given apart) to the
//   network's PuntHandler, and injects what the handler sends back into the
//   gateway port's input ring, so replies are switched like any frame the
//   gateway port received: by FDB to the destination MAC, or flooded.
//   The handler is also ticked periodically (timers, DNS forwarder replies,
//   lease expiry).
//   VLANs: `vlan` is the switch's internal VLAN of the frame — the access
//   VLAN of the guest's port, the VID it used on a trunk, or 0 for ports
//   without <vlan> (a tag such a guest sent stays in the frame as payload).
//   A frame sent with vlan V is switched in VLAN V and leaves every port by
//   that port's policy (untagged on access ports and a native-untagged
//   trunk VLAN, tagged otherwise).
//   Guests can neither reach the gateway MAC's FDB entry nor move it: a
//   guest frame with the gateway MAC as source is dropped
//   (gateway_mac_spoofed). Unicast to the gateway MAC goes to the gateway
//   port only; isolation (<port isolated='yes'/>) never applies to it.
//   Accounting (Dataplane::port_stats of the gateway port): punted frames,
//   injected frames, punt_handler_error (the handler threw; the frame is
//   lost), inject_invalid / inject_no_mbuf / inject_ring_full (send()
//   returned false).
//   The handler works on plain bytes and knows nothing of DPDK; dhcp/
//   implements it, control/ attaches it with Dataplane::set_punt_handler.
//
// Thread-safety
//   on_frame and on_tick are called from the slow-path thread only, never
//   concurrently for one handler. FrameOut::send is valid only during the call
//   it was passed to.
#pragma once

#include <cstdint>
#include <span>

namespace vnet::dp {

class FrameOut {
 public:
  virtual ~FrameOut() = default;
  // Sends an Ethernet frame (without a VLAN tag) from the gateway port; vlan 0
  // = untagged. Returns false when the frame was dropped (counted): shorter
  // than 14 bytes, longer than 9216 + 18 bytes, vlan > 4094, no mbuf, or the
  // gateway port's input ring is full. Frames over the network MTU are
  // dropped by the switch as mtu_exceeded.
  virtual bool send(std::span<const uint8_t> frame, uint16_t vlan) = 0;
};

class PuntHandler {
 public:
  virtual ~PuntHandler() = default;
  // A frame the switch delivered to the gateway port (broadcast, multicast,
  // unknown unicast, or unicast to the gateway MAC), without its VLAN tag.
  // Exceptions are caught and counted (punt_handler_error).
  virtual void on_frame(std::span<const uint8_t> frame, uint16_t vlan, uint64_t now_ns,
                        FrameOut& out) = 0;
  // Called about every 10 ms.
  virtual void on_tick(uint64_t now_ns, FrameOut& out) = 0;
  // True while a lock-step exchange runs whose next frame comes within a
  // round trip (a TFTP transfer, a DNS TCP connection): the slow path then
  // sleeps only converse_sleep_us between idle passes. Slow-path thread.
  virtual bool conversing() const noexcept { return false; }
};

}  // namespace vnet::dp
