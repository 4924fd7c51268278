#pragma once

// The token-level pieces of the promqltest script language that both load blocks and expected
// results use: words, quoted strings, series descriptors and value sequences.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/labels.h"
#include "query/promql_test_script.h"

namespace kura::query::script_lexing {

// This Abseil's string_view is its own type; the public API speaks std::string_view.
inline std::string_view Std(absl::string_view s) { return {s.data(), s.size()}; }

inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Skips leading whitespace of *rest.
void SkipSpace(absl::string_view* rest);

// Removes and returns the next whitespace-separated word of *rest ("" at the end).
absl::string_view NextWord(absl::string_view* rest);

// A PromQL string literal at text[*pos]: "..." or '...' with Go escapes, or `...` raw. Advances
// *pos past the closing quote.
absl::Status ParseQuotedString(absl::string_view text, size_t* pos, std::string* out);

// `[name] ['{' labels '}']` at the start of *rest (§4.1); consumes it. Labels with an empty
// value are dropped, as they are absent for Prometheus.
absl::StatusOr<model::Labels> ParseSeriesDescriptor(absl::string_view* rest);

// Expands a whitespace-separated value sequence (§4.2) and appends it to *values. Histogram
// literals (`{{...}}`, also in `xN` and `+`/`-` forms) become kHistogram positions.
absl::Status ParseValueSequence(absl::string_view text, std::vector<ScriptValue>* values);

}  // namespace kura::query::script_lexing
