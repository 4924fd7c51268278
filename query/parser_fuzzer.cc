// libFuzzer target for the PromQL parser and the HTTP API's parameter parsers, which all read
// untrusted text; built only by scripts/fuzz-parser.sh (KURA_FUZZ=ON).
//
// Beyond "no crash, no leak, no undefined behaviour" it checks the property format_query and
// the engine rely on: whatever parses prints to canonical text that parses again and prints the
// same. A violation aborts, so libFuzzer saves the input like any other crash. What parses is
// also written as parse_query's JSON tree.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "query/api_params.h"
#include "query/json_writer.h"
#include "query/parse_tree_json.h"
#include "query/parser.h"

namespace {

// Every feature on, so the fuzzer reaches the whole grammar.
kura::query::ParserOptions AllFeatures() {
  kura::query::ParserOptions options;
  options.enable_experimental_functions = true;
  options.enable_extended_range_selectors = true;
  options.enable_binop_fill_modifiers = true;
  return options;
}

[[noreturn]] void Fail(std::string_view what, std::string_view input, std::string_view detail) {
  std::fprintf(stderr, "%.*s\ninput:   %.*s\ndetail:  %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(input.size()), input.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void CheckRoundTrip(std::string_view input) {
  static const kura::query::ParserOptions options = AllFeatures();
  absl::StatusOr<kura::query::ExprPtr> expr = kura::query::ParseExpr(input, options);
  if (!expr.ok()) return;
  const std::string printed = (*expr)->String();
  absl::StatusOr<kura::query::ExprPtr> again = kura::query::ParseExpr(printed, options);
  if (!again.ok()) Fail("canonical form does not parse", input, again.status().ToString());
  const std::string reprinted = (*again)->String();
  if (reprinted != printed) Fail("canonical form is not stable", printed, reprinted);
  if ((*again)->type != (*expr)->type) Fail("canonical form changes the type", input, printed);
  std::string tree;
  kura::query::JsonWriter writer(&tree);
  kura::query::WriteParseTree(**expr, &writer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckRoundTrip(input);
  // Only crashes matter below, not the verdicts. The default options reject what the flags
  // enable; that path must be as safe.
  kura::query::ParseExpr(input).status().IgnoreError();
  kura::query::ParseMetricSelector(input).status().IgnoreError();
  kura::query::ParseDuration(input).status().IgnoreError();
  kura::query::ParseTimeMs(input).status().IgnoreError();
  kura::query::ParseApiDuration(input).status().IgnoreError();
  kura::query::ParseLimit(input).status().IgnoreError();
  kura::query::ParseUrlEncoded(input).status().IgnoreError();
  return 0;
}
