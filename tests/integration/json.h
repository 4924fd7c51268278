#pragma once

// A small JSON reader for checking API responses in tests: parses a document into a tree of
// values. Numbers keep their source text, because the Prometheus API's interesting numbers are
// strings anyway and timestamps must compare exactly.

#include <map>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace kura::integration {

struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type = Type::kNull;
  bool boolean = false;
  std::string text;  // the string's value, or a number's source text
  std::vector<Json> array;
  std::map<std::string, Json> object;  // sorted by key, as the tests want labels

  bool is_string() const { return type == Type::kString; }
  bool is_array() const { return type == Type::kArray; }
  bool is_object() const { return type == Type::kObject; }
  // The member `key` of an object; a null value if absent or not an object.
  const Json& operator[](const std::string& key) const;
};

absl::StatusOr<Json> ParseJson(absl::string_view text);

}  // namespace kura::integration
