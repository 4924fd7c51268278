#include "query/engine.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "query/eval_evaluator.h"
#include "query/parser.h"
#include "query/parser_duration_eval.h"

namespace kura::query {
namespace {

std::string_view DocumentedType(ValueType t) {
  switch (t) {
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "instant vector";
    case ValueType::kMatrix: return "range vector";
    case ValueType::kString: return "string";
    case ValueType::kNone: return "none";
  }
  return "none";
}

// Applies delayed __name__ removal, then merges series that end up with equal label sets.
absl::Status CleanupMetricLabels(Matrix* matrix) {
  bool any = false;
  for (auto& s : *matrix) {
    if (!s.drop_name) continue;
    s.labels = DropMetricName(s.labels);
    s.drop_name = false;
    any = true;
  }
  return any ? MergeSameLabels(matrix) : absl::OkStatus();
}

ParserOptions ParserOptionsFor(const EngineOptions& options) {
  ParserOptions popts;
  popts.enable_experimental_functions = options.enable_experimental_functions;
  popts.enable_binop_fill_modifiers = options.enable_binop_fill_modifiers;
  popts.enable_extended_range_selectors = options.enable_extended_range_selectors;
  return popts;
}

absl::StatusOr<QueryResult> Run(model::SeriesReader* reader, const EngineOptions& options,
                                std::string_view query, int64_t start_ms, int64_t end_ms,
                                int64_t step_ms, bool instant) {
  const absl::Time prepare_start = absl::Now();
  ASSIGN_OR_RETURN(ExprPtr expr, ParseExpr(query, ParserOptionsFor(options)));
  // step() is 0 for an instant query and range() is end - start, as in Prometheus.
  RETURN_IF_ERROR(ResolveDurationExprs(*expr, instant ? 0 : step_ms, end_ms - start_ms));
  if (!instant && (expr->type == ValueType::kMatrix || expr->type == ValueType::kString)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid expression type \"", Av(DocumentedType(expr->type)),
                     "\" for range query, must be Scalar or instant Vector"));
  }
  QueryContext ctx;
  ctx.reader = reader;
  ctx.options = &options;
  ctx.query_start_ms = start_ms;
  ctx.query_end_ms = end_ms;
  ctx.query_step_ms = instant ? 0 : step_ms;
  const absl::Time eval_start = absl::Now();
  ctx.deadline = eval_start + options.timeout;
  Evaluator ev(&ctx, start_ms, end_ms, step_ms);
  ASSIGN_OR_RETURN(EvalValue value, ev.Eval(*expr));
  RETURN_IF_ERROR(CleanupMetricLabels(&value.matrix));

  QueryResult result;
  result.stats.total_queryable_samples = ctx.total_queryable_samples;
  result.stats.peak_samples = ctx.peak_samples;
  result.stats.preparation_seconds = absl::ToDoubleSeconds(eval_start - prepare_start);
  result.stats.inner_eval_seconds = absl::ToDoubleSeconds(absl::Now() - eval_start);
  result.warnings = std::move(ctx.annotations.warnings);
  result.infos = std::move(ctx.annotations.infos);
  if (!instant) {
    if (value.type == ValueType::kMatrix || value.type == ValueType::kString) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid expression type \"", Av(DocumentedType(value.type)),
                       "\" for range query, must be Scalar or instant Vector"));
    }
    result.type = ValueType::kMatrix;
    for (auto& s : value.matrix) {
      if (s.points.empty()) continue;
      result.matrix.push_back(MatrixSeries{std::move(s.labels), std::move(s.points)});
    }
    const absl::Time sort_start = absl::Now();
    std::sort(result.matrix.begin(), result.matrix.end(),
              [](const MatrixSeries& a, const MatrixSeries& b) { return a.labels < b.labels; });
    result.stats.result_sort_seconds = absl::ToDoubleSeconds(absl::Now() - sort_start);
    return result;
  }
  result.type = value.type;
  switch (value.type) {
    case ValueType::kScalar:
      result.scalar = value.matrix[0].points[0];
      break;
    case ValueType::kString:
      result.string_value = std::move(value.str);
      result.scalar.t = start_ms;
      break;
    case ValueType::kVector:
      for (auto& s : value.matrix) {
        for (const auto& p : s.points) {
          result.vector.push_back(VectorElement{s.labels, p.t, p.v});
        }
      }
      break;
    case ValueType::kMatrix:
      for (auto& s : value.matrix) {
        if (s.points.empty()) continue;
        result.matrix.push_back(MatrixSeries{std::move(s.labels), std::move(s.points)});
      }
      break;
    case ValueType::kNone:
      return absl::InternalError("expression evaluated to no value");
  }
  return result;
}

}  // namespace

Engine::Engine(model::SeriesReader* reader, EngineOptions options)
    : reader_(reader), options_(std::move(options)) {}

absl::StatusOr<ExprPtr> Engine::Parse(std::string_view query) const {
  return ParseExpr(query, ParserOptionsFor(options_));
}

absl::StatusOr<QueryResult> Engine::InstantQuery(std::string_view query, int64_t time_ms) {
  const absl::Time start = absl::Now();
  absl::StatusOr<QueryResult> result =
      Run(reader_, options_, query, time_ms, time_ms, 1, /*instant=*/true);
  if (result.ok()) result->stats.exec_total_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return result;
}

absl::StatusOr<QueryResult> Engine::RangeQuery(std::string_view query, int64_t start_ms,
                                               int64_t end_ms, int64_t step_ms) {
  if (step_ms <= 0) {
    return absl::InvalidArgumentError(
        "zero or negative query resolution step widths are not accepted. Try a positive "
        "integer");
  }
  if (end_ms < start_ms) {
    return absl::InvalidArgumentError("end timestamp must not be before start time");
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<QueryResult> result =
      Run(reader_, options_, query, start_ms, end_ms, step_ms, /*instant=*/false);
  if (result.ok()) result->stats.exec_total_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return result;
}

}  // namespace kura::query
