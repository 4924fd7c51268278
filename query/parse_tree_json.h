#pragma once

// The PromQL syntax tree as JSON, as Prometheus's /api/v1/parse_query answers it (its
// web/api/v1 translateAST, written for the UI's tree view): one object per node with a "type"
// ("vectorSelector", "binaryExpr", ...) and that node's fields, keys in Go's sorted map order.
//
//   std::string out;
//   JsonWriter w(&out);
//   WriteParseTree(*expr, &w);  // {"matchers":[...],"name":"up",...,"type":"vectorSelector"}

#include "query/ast.h"
#include "query/json_writer.h"

namespace kura::query {

void WriteParseTree(const Expr& expr, JsonWriter* w);

}  // namespace kura::query
