#include "base/temp_dir.h"

#include <filesystem>
#include <fstream>
#include <utility>

#include "gtest/gtest.h"

namespace kura::base {
namespace {

TEST(TempDirTest, CreatesAFreshDirectoryAndRemovesItWithItsContents) {
  std::string path;
  {
    absl::StatusOr<TempDir> dir = TempDir::Create("temp_dir_test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    path = dir->path();
    EXPECT_TRUE(std::filesystem::is_directory(path));
    EXPECT_TRUE(std::filesystem::is_empty(path));
    std::filesystem::create_directories(path + "/a/b");
    std::ofstream(path + "/a/b/file") << "x";
    absl::StatusOr<TempDir> other = TempDir::Create("temp_dir_test");
    ASSERT_TRUE(other.ok());
    EXPECT_NE(other->path(), path);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(TempDirTest, MovingHandsOverTheDirectory) {
  absl::StatusOr<TempDir> dir = TempDir::Create("temp_dir_test");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->path();
  TempDir moved = *std::move(dir);
  EXPECT_EQ(moved.path(), path);
  EXPECT_TRUE(std::filesystem::is_directory(path));
  moved = TempDir();  // assigning removes the directory held before
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace kura::base
