#include "nat/fragments.h"

namespace vnet::nat {

FragmentNotes::FragmentNotes(uint32_t capacity, uint64_t seed)
    : notes_((capacity + kFragmentWays - 1) / kFragmentWays * kFragmentWays),
      sets_(static_cast<uint32_t>(notes_.size() / kFragmentWays)),
      seed_(seed | 1) {}

FragmentNote* FragmentNotes::set_of(const FragmentKey& key) noexcept {
  if (sets_ == 0) return nullptr;
  uint64_t h = (uint64_t{key.src} << 32 | key.dst) ^ seed_;
  h ^= (uint64_t{key.id} << 16 | uint64_t{key.proto} << 8 | static_cast<uint8_t>(key.dir)) * 0x9e3779b97f4a7c15ull;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 32;
  return &notes_[(h % sets_) * kFragmentWays];
}

FragmentNote* FragmentNotes::find(const FragmentKey& key, uint64_t now_ns) noexcept {
  FragmentNote* set = set_of(key);
  if (set == nullptr) return nullptr;
  for (uint32_t i = 0; i < kFragmentWays; ++i) {
    FragmentNote& n = set[i];
    if (n.expires_ns > now_ns && n.key == key) return &n;
  }
  return nullptr;
}

FragmentNote* FragmentNotes::add(const FragmentKey& key, uint64_t now_ns, bool* evicted) noexcept {
  *evicted = false;
  FragmentNote* set = set_of(key);
  if (set == nullptr) return nullptr;
  FragmentNote* victim = nullptr;
  for (uint32_t i = 0; i < kFragmentWays; ++i) {
    FragmentNote& n = set[i];
    if (n.expires_ns > now_ns && n.key == key) {
      victim = &n;
      break;
    }
    if (n.expires_ns <= now_ns) {
      if (victim == nullptr || victim->expires_ns > now_ns) victim = &n;
    } else if (victim == nullptr || (victim->expires_ns > now_ns && n.expires_ns < victim->expires_ns)) {
      victim = &n;
    }
  }
  *evicted = victim->expires_ns > now_ns && !(victim->key == key);
  *victim = FragmentNote{};
  victim->key = key;
  victim->expires_ns = now_ns + kFragmentTimeoutNs;
  return victim;
}

bool FragmentNotes::account(FragmentNote* note, uint32_t offset, uint32_t payload, bool more) noexcept {
  note->seen += payload;
  if (!more) note->total = offset + payload;
  if (note->total != 0 && note->seen >= note->total) {
    note->expires_ns = 0;
    return true;
  }
  return false;
}

size_t FragmentNotes::size(uint64_t now_ns) const noexcept {
  size_t n = 0;
  for (const FragmentNote& note : notes_) n += note.expires_ns > now_ns ? 1 : 0;
  return n;
}

}  // namespace vnet::nat
