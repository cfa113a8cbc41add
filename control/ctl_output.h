// vnet::ctl — vnetctl's text output, laid out exactly like virsh's.
//
// Theory of operation
//   virsh prints tables with vshTable: every cell is preceded by one space,
//   every column but the last is padded to the column's widest cell plus two
//   spaces, and under the header comes a line of (width + 3) dashes per
//   column. Key/value blocks (net-info) are printf("%-15s %s\n"). vnetctl
//   reproduces both from the JSON results of vnetd, sorting lists by name
//   case-insensitively as virsh does. The blank line virsh prints after every
//   command is added by the caller (vnetctl_main.cc), not here.
//
// Thread-safety
//   Pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vnet::ctl {

// vshTable layout; `with_header` false prints only the rows (virsh --quiet).
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows, bool with_header);

enum class ListStyle { kTable, kName, kUuid };

// `networks`: the array returned by the net-list command.
std::string format_network_list(const nlohmann::json& networks, ListStyle style, bool with_header);

// `info`: a network object (net-info result).
std::string format_network_info(const nlohmann::json& info);

}  // namespace vnet::ctl
