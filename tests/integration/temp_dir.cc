#include "tests/integration/temp_dir.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kura::integration {

absl::StatusOr<std::unique_ptr<TempDir>> TempDir::Create(const std::string& prefix) {
  const char* root = std::getenv("TEST_TMPDIR");
  if (root == nullptr || *root == '\0') root = std::getenv("TMPDIR");
  if (root == nullptr || *root == '\0') root = "/tmp";
  std::string pattern = absl::StrCat(root, "/", prefix, "-XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<TempDir>(new TempDir(buffer.data()));
}

TempDir::~TempDir() {
  // KURA_KEEP_TEST_DIRS=1 keeps data and logs for a post-mortem.
  if (const char* keep = std::getenv("KURA_KEEP_TEST_DIRS"); keep != nullptr && keep[0] == '1') {
    return;
  }
  // Best effort: a leftover temp dir must not turn a passing test into a crash.
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace kura::integration
