#pragma once

// The PromQL function table as the parser sees it: each function's argument types, how many
// optional or repeated trailing arguments it takes and what it returns. Mirrors Prometheus 3.x
// promql/parser/functions.go; the engine keeps the implementations in query/functions.h.

#include <string_view>
#include <vector>

#include "query/ast.h"

namespace kura::query {

struct FunctionSignature {
  std::string_view name;
  std::vector<ValueType> arg_types;
  // 0: exactly arg_types.size() arguments. -1: the last argument type repeats without limit.
  // n > 0: up to n more arguments of the last type, and the last one may be omitted, so the
  // call takes between arg_types.size() - 1 and arg_types.size() - 1 + n arguments.
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
  // Accepted only with ParserOptions::enable_experimental_functions.
  bool experimental = false;
};

// nullptr when no function has this (case-sensitive) name.
const FunctionSignature* LookupFunction(std::string_view name);

// Every function, sorted by name (for documentation and tests).
const std::vector<FunctionSignature>& AllFunctions();

}  // namespace kura::query
