#pragma once

// TempDir: a fresh, empty directory that is removed, with everything in it, when the object
// goes away. It is created under $TEST_TMPDIR when that is set, else under the system's temp
// directory, so tests never write into the source tree.
//
// Example:
//   ASSIGN_OR_RETURN(base::TempDir dir, base::TempDir::Create("node_test"));
//   options.data_dir = dir.path() + "/data";

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kura::base {

class TempDir {
 public:
  // `prefix` starts the directory's name; a random suffix makes it unique.
  static absl::StatusOr<TempDir> Create(std::string_view prefix);

  TempDir() = default;  // no directory
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  void Remove();

  std::string path_;
};

}  // namespace kura::base
