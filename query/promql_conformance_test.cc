// Runs Prometheus's PromQL test scripts against the engine over a real storage node and prints
// how many evals pass, per file, per bucket and in total. The scripts live outside the source
// tree (KURA_PROMQL_CONFORMANCE_DIR, else <source dir>/../shared/conformance/promql); the test
// fails when fewer evals pass than promql_conformance_floor.txt says.

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "base/thread_pool.h"
#include "gtest/gtest.h"
#include "model/write_batch.h"
#include "query/ast.h"
#include "query/engine.h"
#include "query/parser.h"
#include "query/promql_test_script.h"
#include "storage/node.h"

namespace kura::query {
namespace {

namespace fs = std::filesystem;

struct EvalOutcome {
  std::string file;
  int line = 0;
  std::string expr;
  std::string bucket;
  bool pass = false;
  bool strict_pass = false;  // pass plus the range-mode check and the @-pinned re-runs
  std::string why;
};

// One row of evals.tsv: file, line, kind, bucket, flags, expectations, expression.
struct InventoryRow {
  std::string bucket;
  std::string expr;
};
using Inventory = std::map<std::string, std::map<int, InventoryRow>>;  // file -> line -> row

bool EnvIs(const char* name, std::string_view value) {
  const char* v = std::getenv(name);
  return v != nullptr && value == v;
}

fs::path CorpusDir() {
  if (const char* dir = std::getenv("KURA_PROMQL_CONFORMANCE_DIR"); dir != nullptr && *dir) {
    return dir;
  }
  return fs::path(KURA_SOURCE_DIR) / ".." / "shared" / "conformance" / "promql";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Inventory ReadInventory(const fs::path& tsv) {
  Inventory inventory;
  std::istringstream in(ReadFile(tsv));
  std::string row;
  std::getline(in, row);  // header
  while (std::getline(in, row)) {
    std::vector<std::string> fields = absl::StrSplit(row, '\t');
    int line = 0;
    if (fields.size() < 7 || !absl::SimpleAtoi(fields[1], &line)) continue;
    inventory[fields[0]][line] = {fields[3], fields[6]};
  }
  return inventory;
}

// Functions whose value changes with the evaluation time even when their arguments are pinned
// with `@`; expressions calling them get no `@`-pinned re-runs (§8.2).
bool IsAtUnsafeFunction(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "days_in_month", "day_of_month", "day_of_week", "day_of_year", "end",
      "hour",          "minute",       "month",       "year",        "predict_linear",
      "range",         "start",        "step",        "time",        "timestamp"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

// Pins every selector and subquery without `@` to `t_ms`; what lies inside a subquery (which
// then always carries `@`) is left alone. Sets *unsafe when an at-unsafe function is called.
void PinAt(Expr* expr, int64_t t_ms, bool* unsafe) {
  if (expr == nullptr) return;
  std::visit(
      [&](auto& n) {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, VectorSelector> || std::is_same_v<T, SubqueryExpr>) {
          if (n.at == AtModifier::kNone) {
            n.at = AtModifier::kTimestamp;
            n.at_ms = t_ms;
          }
        } else if constexpr (std::is_same_v<T, MatrixSelector>) {
          PinAt(n.selector.get(), t_ms, unsafe);
        } else if constexpr (std::is_same_v<T, Call>) {
          *unsafe = *unsafe || IsAtUnsafeFunction(n.name);
          for (ExprPtr& arg : n.args) PinAt(arg.get(), t_ms, unsafe);
        } else if constexpr (std::is_same_v<T, AggregateExpr>) {
          PinAt(n.param.get(), t_ms, unsafe);
          PinAt(n.expr.get(), t_ms, unsafe);
        } else if constexpr (std::is_same_v<T, BinaryExpr>) {
          PinAt(n.lhs.get(), t_ms, unsafe);
          PinAt(n.rhs.get(), t_ms, unsafe);
        } else if constexpr (std::is_same_v<T, UnaryExpr> || std::is_same_v<T, ParenExpr>) {
          PinAt(n.expr.get(), t_ms, unsafe);
        }
      },
      expr->node);
}

// The query text of the `@`-pinned re-runs, or nothing when they do not apply.
std::optional<std::string> AtPinnedQuery(const std::string& query, int64_t t_ms) {
  absl::StatusOr<ExprPtr> expr = ParseExpr(query);
  if (!expr.ok()) return std::nullopt;
  bool unsafe = false;
  PinAt(expr->get(), t_ms, &unsafe);
  if (unsafe) return std::nullopt;
  return (*expr)->String();
}

std::vector<int64_t> AtPinnedRerunTimes(int64_t t_ms) {
  if (t_ms == 0) return {-1000, 0, 1000};
  return {-10 * t_ms, 0, t_ms / 5, t_ms, 10 * t_ms};
}

absl::Status WithContext(const std::string& context, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context, status.message()));
}

// Executes one script: storage per `clear`, one write per `load`, one verdict per `eval`.
class ScriptRunner {
 public:
  ScriptRunner(fs::path tmp_root, std::string file, const std::map<int, InventoryRow>* rows)
      : tmp_root_(std::move(tmp_root)), file_(std::move(file)), rows_(rows) {}
  ~ScriptRunner() { Close(); }

  void Run(const TestScript& script, std::vector<EvalOutcome>* outcomes) {
    storage_status_ = Reset();
    for (const ScriptCommand& command : script.commands) {
      if (std::holds_alternative<ClearCommand>(command)) {
        if (storage_status_.ok()) storage_status_ = Reset();
      } else if (const auto* load = std::get_if<LoadCommand>(&command)) {
        if (storage_status_.ok()) storage_status_ = Load(*load);
      } else {
        outcomes->push_back(Eval(std::get<EvalCommand>(command)));
      }
    }
  }

 private:
  void Close() {
    engine_.reset();
    node_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  absl::Status Reset() {
    Close();
    dir_ = tmp_root_ / absl::StrCat("node", generation_++);
    fs::create_directories(dir_);
    storage::NodeOptions options;
    options.data_dir = dir_.string();
    absl::StatusOr<std::unique_ptr<storage::Node>> node = storage::Node::Open(options);
    if (!node.ok()) return node.status();
    node_ = *std::move(node);
    EngineOptions engine_options;
    engine_options.lookback_delta = absl::Minutes(5);
    engine_options.timeout = absl::Seconds(100);
    engine_options.max_samples = 10'000;
    engine_options.default_subquery_step = absl::Minutes(1);
    engine_options.enable_experimental_functions = true;
    engine_options.enable_extended_range_selectors = true;
    engine_options.enable_binop_fill_modifiers = true;
    engine_options.enable_delayed_name_removal = true;
    engine_options.use_start_timestamps = true;
    // Series are decoded on a pool as in the binary, so the files check that path too.
    engine_options.decode_pool = &decode_pool_;
    engine_ = std::make_unique<Engine>(node_.get(), engine_options);
    return absl::OkStatus();
  }

  // Histogram samples have no place in a WriteBatch; their evals are counted as failed.
  absl::Status Load(const LoadCommand& load) {
    model::WriteBatch batch;
    for (const ScriptSeries& series : load.series) {
      model::TimeSeries ts{series.labels, {}, {}};
      for (size_t k = 0; k < series.values.size(); ++k) {
        if (series.values[k].kind != ScriptValue::Kind::kFloat) continue;
        ts.samples.push_back({static_cast<int64_t>(k) * load.interval_ms, series.values[k].value});
        if (!series.start_timestamps_ms.empty()) {
          ts.start_timestamps_ms.push_back(series.start_timestamps_ms[k]);
        }
      }
      if (!ts.samples.empty()) batch.series.push_back(std::move(ts));
    }
    if (batch.series.empty()) return absl::OkStatus();
    absl::Status status = node_->Write(batch);
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat("load at line ", load.line, " failed: ", status.message()));
    }
    return absl::OkStatus();
  }

  EvalOutcome Eval(const EvalCommand& eval) {
    EvalOutcome outcome{file_, eval.line, eval.expr, "unknown"};
    if (auto it = rows_->find(eval.line); it != rows_->end()) outcome.bucket = it->second.bucket;
    if (outcome.bucket == "hist" || eval.HasHistogramExpectation()) {
      outcome.why = "needs native histograms";
      return outcome;
    }
    if (!storage_status_.ok()) {
      outcome.why = std::string(storage_status_.message());
      return outcome;
    }
    absl::StatusOr<QueryResult> result =
        eval.is_range ? engine_->RangeQuery(eval.expr, eval.start_ms, eval.end_ms, eval.step_ms)
                      : engine_->InstantQuery(eval.expr, eval.start_ms);
    absl::Status verdict = CheckEvalResult(eval, result);
    outcome.pass = verdict.ok();
    outcome.why = std::string(verdict.message());
    if (!outcome.pass) return outcome;
    absl::Status strict = StrictChecks(eval, result);
    outcome.strict_pass = strict.ok();
    outcome.why = std::string(strict.message());
    return outcome;
  }

  // §8: the range-mode cross-check, and the `@`-pinned re-runs with their own cross-checks.
  // REQUIRES: `result` passed the primary check.
  absl::Status StrictChecks(const EvalCommand& eval, const absl::StatusOr<QueryResult>& result) {
    if (eval.is_range) return absl::OkStatus();
    if (result.ok()) {
      RETURN_IF_ERROR(RangeModeCheck(eval, eval.expr, eval.start_ms, *result));
    }
    std::optional<std::string> pinned = AtPinnedQuery(eval.expr, eval.start_ms);
    if (!pinned) return absl::OkStatus();
    for (int64_t t : AtPinnedRerunTimes(eval.start_ms)) {
      const std::string context = absl::StrCat("@-pinned re-run at ", t, " of ", *pinned, ": ");
      absl::StatusOr<QueryResult> rerun = engine_->InstantQuery(*pinned, t);
      RETURN_IF_ERROR(WithContext(context, CheckEvalResult(eval, rerun)));
      if (rerun.ok())
        RETURN_IF_ERROR(WithContext(context, RangeModeCheck(eval, *pinned, t, *rerun)));
    }
    return absl::OkStatus();
  }

  absl::Status RangeModeCheck(const EvalCommand& eval, const std::string& query, int64_t t,
                              const QueryResult& instant_result) {
    if (!WantsRangeModeCheck(eval)) return absl::OkStatus();
    constexpr int64_t kStep = kRangeModeCheckStepMs;
    absl::StatusOr<QueryResult> range = engine_->RangeQuery(query, t - kStep, t + kStep, kStep);
    return CheckRangeModeResult(eval, t, instant_result, range);
  }

  const fs::path tmp_root_;
  const std::string file_;
  const std::map<int, InventoryRow>* rows_;
  int generation_ = 0;
  fs::path dir_;
  absl::Status storage_status_;
  std::unique_ptr<storage::Node> node_;
  base::ThreadPool decode_pool_{2};
  std::unique_ptr<Engine> engine_;
};

// Every inventory row of `file` as a failed eval, for a script that cannot be read at all.
void FailWholeFile(const std::string& file, const std::map<int, InventoryRow>& rows,
                   const absl::Status& status, std::vector<EvalOutcome>* outcomes) {
  for (const auto& [line, row] : rows) {
    outcomes->push_back({file, line, row.expr, row.bucket, false, false,
                         absl::StrCat("script rejected: ", status.message())});
  }
}

struct Tally {
  int pass = 0;
  int strict = 0;
  int total = 0;
  void Add(const EvalOutcome& o) {
    pass += o.pass;
    strict += o.strict_pass;
    ++total;
  }
};

void PrintFailures(const std::vector<EvalOutcome>& outcomes) {
  for (const EvalOutcome& o : outcomes) {
    if (o.strict_pass) continue;
    std::printf("FAIL%s %s:%d [%s] %s\n    %s\n", o.pass ? " (strict only)" : "", o.file.c_str(),
                o.line, o.bucket.c_str(), o.expr.c_str(), o.why.c_str());
  }
}

int ReadFloor() {
  const std::string text =
      ReadFile(fs::path(KURA_SOURCE_DIR) / "query" / "promql_conformance_floor.txt");
  int floor = 0;
  EXPECT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &floor))
      << "promql_conformance_floor.txt must hold one integer";
  return floor;
}

fs::path MakeTempRoot() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern =
      (fs::path(base != nullptr && *base ? base : "/tmp") / "promql-conformance-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

std::vector<fs::path> ListScripts(const fs::path& corpus) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(corpus / "testdata")) {
    if (entry.path().extension() == ".test") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(AtPinnedQueryTest, PinsSelectorsAndSubqueriesOnly) {
  std::optional<std::string> q =
      AtPinnedQuery("sum(rate(m[5m])) + max_over_time(n[10m:1m]) + o @ 5", 60'000);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(*q, "sum(rate(m[5m] @ 60.000)) + max_over_time(n[10m:1m] @ 60.000) + o @ 5.000");
  EXPECT_FALSE(AtPinnedQuery("time() - m", 60'000).has_value());
  EXPECT_TRUE(AtPinnedQuery("max_over_time(timestamp(m)[5m:] @ 10)", 60'000).has_value());
  EXPECT_EQ(AtPinnedRerunTimes(0), (std::vector<int64_t>{-1000, 0, 1000}));
  EXPECT_EQ(AtPinnedRerunTimes(60'000),
            (std::vector<int64_t>{-600'000, 0, 12'000, 60'000, 600'000}));
}

class PromqlConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    corpus_ = CorpusDir();
    if (!fs::is_directory(corpus_ / "testdata")) {
      std::printf("promql conformance: corpus absent at %s\n", corpus_.string().c_str());
      if (EnvIs("KURA_REQUIRE_CONFORMANCE", "1")) FAIL() << "conformance corpus required";
      GTEST_SKIP() << "PromQL conformance corpus absent";
    }
    inventory_ = ReadInventory(corpus_ / "evals.tsv");
    ASSERT_FALSE(inventory_.empty()) << "evals.tsv missing or empty";
  }

  fs::path corpus_;
  Inventory inventory_;
};

// The script parser finds exactly the evals of the inventory, none of them malformed.
TEST_F(PromqlConformanceTest, ScriptsParseLikeTheInventory) {
  size_t evals = 0;
  for (const fs::path& path : ListScripts(corpus_)) {
    const std::string name = path.filename().string();
    absl::StatusOr<TestScript> script = ParseTestScript(ReadFile(path));
    ASSERT_TRUE(script.ok()) << name << ": " << script.status();
    for (const ScriptCommand& command : script->commands) {
      const auto* eval = std::get_if<EvalCommand>(&command);
      if (eval == nullptr) continue;
      ++evals;
      EXPECT_TRUE(inventory_[name].contains(eval->line)) << name << ":" << eval->line;
      EXPECT_EQ(eval->script_error, "") << name << ":" << eval->line;
    }
  }
  size_t rows = 0;
  for (const auto& [file, lines] : inventory_) rows += lines.size();
  EXPECT_EQ(evals, rows);
}

// Runs one script; its evals in file order.
std::vector<EvalOutcome> RunFile(const fs::path& path, const fs::path& tmp_root,
                                 const Inventory& inventory) {
  static const std::map<int, InventoryRow> kNoRows;
  const std::string name = path.filename().string();
  auto rows = inventory.find(name);
  const auto& file_rows = rows == inventory.end() ? kNoRows : rows->second;
  std::vector<EvalOutcome> outcomes;
  absl::StatusOr<TestScript> script = ParseTestScript(ReadFile(path));
  if (script.ok()) {
    ScriptRunner(tmp_root / name, name, &file_rows).Run(*script, &outcomes);
  } else {
    FailWholeFile(name, file_rows, script.status(), &outcomes);
  }
  return outcomes;
}

// 4: opening a storage node per `clear` dominates the run and mostly waits on RocksDB's
// threads, so a few files at once cut the wall time without loading the machine.
constexpr int kParallelFiles = 4;

std::vector<std::vector<EvalOutcome>> RunFiles(const std::vector<fs::path>& files,
                                               const fs::path& tmp_root,
                                               const Inventory& inventory) {
  std::vector<std::vector<EvalOutcome>> results(files.size());
  std::atomic<size_t> next_file{0};
  auto work = [&] {
    for (size_t i = next_file++; i < files.size(); i = next_file++) {
      results[i] = RunFile(files[i], tmp_root, inventory);  // each worker owns its slots
    }
  };
  std::vector<std::thread> workers;
  for (int k = 0; k < kParallelFiles; ++k) workers.emplace_back(work);
  for (std::thread& worker : workers) worker.join();
  return results;
}

TEST_F(PromqlConformanceTest, PassesAtLeastTheFloor) {
  const fs::path tmp_root = MakeTempRoot();
  ASSERT_FALSE(tmp_root.empty());
  const std::vector<fs::path> files = ListScripts(corpus_);
  const std::vector<std::vector<EvalOutcome>> results = RunFiles(files, tmp_root, inventory_);
  fs::remove_all(tmp_root);

  std::vector<EvalOutcome> outcomes;
  for (size_t i = 0; i < files.size(); ++i) {
    Tally tally;
    for (const auto& o : results[i]) tally.Add(o);
    std::printf("promql conformance: %s: %d/%d evals pass\n", files[i].filename().string().c_str(),
                tally.pass, tally.total);
    outcomes.insert(outcomes.end(), results[i].begin(), results[i].end());
  }
  if (EnvIs("KURA_CONFORMANCE_VERBOSE", "1")) PrintFailures(outcomes);
  std::map<std::string, Tally> buckets;
  Tally total;
  for (const auto& o : outcomes) {
    buckets[o.bucket].Add(o);
    total.Add(o);
  }
  for (const auto& [bucket, tally] : buckets) {
    std::printf("promql conformance: bucket %s: %d/%d evals pass (%d strict)\n", bucket.c_str(),
                tally.pass, tally.total, tally.strict);
  }
  std::printf(
      "promql conformance (strict: range-mode checks, @-pinned re-runs): %d/%d evals pass\n",
      total.strict, total.total);
  std::printf("promql conformance: %d/%d evals pass\n", total.pass, total.total);
  std::fflush(stdout);

  const int floor = ReadFloor();
  EXPECT_GE(total.pass, floor) << "fewer evals pass than promql_conformance_floor.txt says";
}

}  // namespace
}  // namespace kura::query
