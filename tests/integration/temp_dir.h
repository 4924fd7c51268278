#pragma once

// A directory under the system temp dir (or $TEST_TMPDIR) that is removed with its contents when
// the owner goes away, so a failed test leaves nothing behind (unless KURA_KEEP_TEST_DIRS=1).

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace kura::integration {

class TempDir {
 public:
  // Creates a fresh directory whose name starts with `prefix`.
  static absl::StatusOr<std::unique_ptr<TempDir>> Create(const std::string& prefix);

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // `path()/name`.
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}

  std::string path_;
};

}  // namespace kura::integration
