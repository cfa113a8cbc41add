// vnet::dhcp — host-name rules. See host_names.h.
#include "dhcp/host_names.h"

namespace vnet::dhcp {

namespace {
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
}  // namespace

bool names_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string_view strip_root(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

bool is_legal_hostname(std::string_view name) {
  if (name.empty() || name.size() > 253 || !is_alnum(name.front())) return false;
  size_t label_size = 0;
  for (char c : name) {
    if (c == '.') {
      if (label_size == 0) return false;
      label_size = 0;
      continue;
    }
    if (!is_alnum(c) && c != '-' && c != '_') return false;
    if (++label_size > 63) return false;
  }
  return label_size != 0;
}

std::string_view first_label(std::string_view name) {
  const size_t dot = name.find('.');
  return dot == std::string_view::npos ? name : name.substr(0, dot);
}

std::string_view after_first_label(std::string_view name) {
  const size_t dot = name.find('.');
  return dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
}

bool is_subdomain(std::string_view name, std::string_view domain) {
  name = strip_root(name);
  domain = strip_root(domain);
  if (domain.empty()) return false;
  if (name.size() == domain.size()) return names_equal(name, domain);
  if (name.size() < domain.size() + 1) return false;
  return name[name.size() - domain.size() - 1] == '.' &&
         names_equal(name.substr(name.size() - domain.size()), domain);
}

}  // namespace vnet::dhcp
