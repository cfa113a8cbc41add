// vnet::ctl — durable file operations for the state directory.
//
// Theory of operation
//   Every file vnetd keeps (network definitions, autostart markers) is written
//   so that a crash or power loss leaves either the old or the new content,
//   never a torn file:
//     1. write the content to a temporary file in the same directory
//        (".NAME.tmpXXXXXX", created with mkstemp, so never a *.xml name),
//     2. fsync() the temporary file, close it,
//     3. rename() it over the final name (atomic within one file system),
//     4. fsync() the directory so the rename itself is on disk.
//   Removal is unlink() followed by an fsync() of the directory.
//   Leftover temporaries from a crash start with '.' and contain ".tmp"; the
//   state store deletes them at start-up (remove_stale_temporaries).
//
// Thread-safety
//   Plain functions; callers serialise access to the same path (in vnetd only
//   the control thread touches the state directory).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "xml/network_xml.h"

namespace vnet::ctl {

// Atomically replace (or create) `path` with `content`, file mode `mode`.
xml::Status atomic_write_file(const std::filesystem::path& path, std::string_view content,
                              mode_t mode = 0600);

// unlink(path) + fsync(parent dir). A missing file is success.
xml::Status remove_file_durable(const std::filesystem::path& path);

// fsync() a directory (makes renames/unlinks inside it durable).
xml::Status fsync_dir(const std::filesystem::path& dir);

// Whole file content; the error names the path and strerror (virsh style:
// "Failed to open file 'X': No such file or directory").
xml::Result<std::string> read_file(const std::filesystem::path& path);

// mkdir -p with `mode` for the directories created.
xml::Status ensure_dir(const std::filesystem::path& dir, mode_t mode = 0755);

// Remove ".*.tmp*" files left by an interrupted atomic_write_file in `dir`.
// Returns the number removed.
int remove_stale_temporaries(const std::filesystem::path& dir);

}  // namespace vnet::ctl
