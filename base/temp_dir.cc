#include "base/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace kura::base {

absl::StatusOr<TempDir> TempDir::Create(std::string_view prefix) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::error_code error;
  std::string parent = base != nullptr && *base != '\0'
                           ? std::string(base)
                           : std::filesystem::temp_directory_path(error).string();
  if (error) parent = "/tmp";
  std::string pattern = absl::StrCat(parent, "/", std::string(prefix), ".XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("creating a temp directory ", pattern, ": ", std::strerror(errno)));
  }
  return TempDir(std::move(pattern));
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    Remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() { Remove(); }

void TempDir::Remove() {
  if (path_.empty()) return;
  std::error_code ignored;  // best effort: a leftover temp dir is no reason to fail
  std::filesystem::remove_all(path_, ignored);
  path_.clear();
}

}  // namespace kura::base
