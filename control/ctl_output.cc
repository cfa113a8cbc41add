#include "control/ctl_output.h"

#include <strings.h>

#include <algorithm>
#include <cstdio>

namespace vnet::ctl {
namespace {

using nlohmann::json;

std::string str_member(const json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

bool bool_member(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

const char* yes_no(bool b) { return b ? "yes" : "no"; }

// Display width of a cell: control characters are shown as \xNN by virsh
// (4 columns); everything else counts one column per code point.
std::string safe_cell(const std::string& s, size_t& width) {
  std::string out;
  width = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || (c == '\\' && i + 1 < s.size() && s[i + 1] == 'x')) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      width += 4;
    } else {
      out += static_cast<char>(c);
      if ((c & 0xC0) != 0x80) ++width;  // count UTF-8 lead bytes only
    }
  }
  return out;
}

}  // namespace

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows, bool with_header) {
  const size_t ncols = header.size();
  std::vector<std::vector<std::string>> cells;
  std::vector<std::vector<size_t>> widths;
  std::vector<size_t> max_width(ncols, 0);
  auto add_row = [&](const std::vector<std::string>& row, bool counts) {
    std::vector<std::string> r(ncols);
    std::vector<size_t> w(ncols, 0);
    for (size_t i = 0; i < ncols && i < row.size(); ++i) {
      r[i] = safe_cell(row[i], w[i]);
      if (counts) max_width[i] = std::max(max_width[i], w[i]);
    }
    cells.push_back(std::move(r));
    widths.push_back(std::move(w));
  };
  add_row(header, with_header);
  for (const auto& row : rows) add_row(row, true);

  std::string out;
  auto print_row = [&](size_t idx) {
    for (size_t i = 0; i < ncols; ++i) {
      out += ' ';
      out += cells[idx][i];
      if (i + 1 < ncols) out.append(max_width[i] - std::min(max_width[i], widths[idx][i]) + 2, ' ');
    }
    out += '\n';
  };
  if (with_header) {
    print_row(0);
    for (size_t i = 0; i < ncols; ++i) out.append(max_width[i] + 3, '-');
    out += '\n';
  }
  for (size_t r = 1; r < cells.size(); ++r) print_row(r);
  return out;
}

std::string format_network_list(const json& networks, ListStyle style, bool with_header) {
  std::vector<json> nets;
  if (networks.is_array()) nets.assign(networks.begin(), networks.end());
  std::stable_sort(nets.begin(), nets.end(), [](const json& a, const json& b) {
    return ::strcasecmp(str_member(a, "name").c_str(), str_member(b, "name").c_str()) < 0;
  });
  std::string out;
  if (style == ListStyle::kName || style == ListStyle::kUuid) {
    for (const json& n : nets) out += str_member(n, style == ListStyle::kName ? "name" : "uuid") + "\n";
    return out;
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& n : nets) {
    rows.push_back({str_member(n, "name"), bool_member(n, "active") ? "active" : "inactive",
                    yes_no(bool_member(n, "autostart")), yes_no(bool_member(n, "persistent"))});
  }
  return format_table({"Name", "State", "Autostart", "Persistent"}, rows, with_header);
}

std::string format_network_info(const json& info) {
  std::string out;
  auto line = [&](const char* key, const std::string& value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%-15s ", key);
    out += buf;
    out += value;
    out += '\n';
  };
  line("Name:", str_member(info, "name"));
  line("UUID:", str_member(info, "uuid"));
  line("Active:", yes_no(bool_member(info, "active")));
  line("Persistent:", yes_no(bool_member(info, "persistent")));
  line("Autostart:", yes_no(bool_member(info, "autostart")));
  const std::string bridge = str_member(info, "bridge");
  if (!bridge.empty()) line("Bridge:", bridge);
  if (auto it = info.find("ports"); it != info.end() && it->is_number_unsigned())
    line("Ports:", std::to_string(it->get<uint64_t>()));
  return out;
}

}  // namespace vnet::ctl
