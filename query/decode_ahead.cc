#include "query/decode_ahead.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace kura::query {

// Series of one batch: workers and the consumer claim them one at a time.
class DecodeAhead::Batch {
 public:
  struct Item {
    model::Labels labels;
    std::unique_ptr<model::SampleIterator> iterator;
    std::vector<model::Sample> samples;
    std::vector<int64_t> starts;
    absl::Status status;
  };

  explicit Batch(bool with_starts) : with_starts_(with_starts) {}

  std::vector<Item>& items() { return items_; }

  // Decodes items until none is left to claim.
  void Work() {
    size_t i;
    while ((i = next_.fetch_add(1, std::memory_order_relaxed)) < items_.size()) {
      Item& item = items_[i];
      if (!cancelled_.load(std::memory_order_relaxed)) {
        item.status = with_starts_
                          ? item.iterator->AppendRemainingWithStarts(&item.samples, &item.starts)
                          : item.iterator->AppendRemaining(&item.samples);
      }
      item.iterator.reset();  // its chunks go now, not when the batch does
      absl::MutexLock lock(&mu_);
      ++done_;
    }
  }

  // Decodes what is left, then waits for the items others took.
  void Finish() {
    Work();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Batch* b)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(b->mu_) { return b->done_ == b->items_.size(); },
        this));
  }

  // Items not yet claimed are skipped (left without samples).
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }

  size_t total_samples() const {
    size_t n = 0;
    for (const Item& item : items_) n += item.samples.size();
    return n;
  }

 private:
  const bool with_starts_;
  std::vector<Item> items_;  // filled before the batch is shared
  std::atomic<size_t> next_{0};
  std::atomic<bool> cancelled_{false};
  absl::Mutex mu_;
  size_t done_ ABSL_GUARDED_BY(mu_) = 0;
};

DecodeAhead::DecodeAhead(std::unique_ptr<model::SeriesSet> set, base::ThreadPool* pool,
                         bool with_starts)
    : set_(std::move(set)),
      pool_(pool != nullptr && pool->num_threads() > 0 ? pool : nullptr),
      with_starts_(with_starts) {}

DecodeAhead::~DecodeAhead() {
  for (const std::shared_ptr<Batch>& batch : pending_) {
    batch->Cancel();
    batch->Finish();
  }
}

bool DecodeAhead::StartBatch() {
  if (set_done_) return false;
  auto batch = std::make_shared<Batch>(with_starts_);
  std::vector<Batch::Item>& items = batch->items();
  items.reserve(batch_series_);
  while (items.size() < batch_series_) {
    if (!set_->Next()) {
      set_done_ = true;
      break;
    }
    const model::Series& series = set_->At();
    std::vector<model::Sample> samples;
    if (!spare_.empty()) {
      samples = std::move(spare_.back());
      spare_.pop_back();
    }
    items.push_back(
        {series.labels(), series.NewIterator(), std::move(samples), {}, absl::OkStatus()});
  }
  if (items.empty()) return false;
  if (pool_ != nullptr) {
    // One closure per thread that can help; the consumer is the last helper.
    const size_t helpers =
        std::min<size_t>(static_cast<size_t>(pool_->num_threads()), items.size() - 1);
    for (size_t i = 0; i < helpers; ++i) pool_->Schedule([batch] { batch->Work(); });
  }
  pending_.push_back(std::move(batch));
  return true;
}

bool DecodeAhead::Next() {
  if (!status_.ok()) return false;
  if (current_ != nullptr && ++index_ < current_->items().size()) {
    status_ = current_->items()[index_].status;
    return status_.ok();
  }
  if (current_ != nullptr) {
    // Its buffers serve the next batch: fresh ones would cost page faults.
    for (Batch::Item& item : current_->items()) {
      item.samples.clear();
      spare_.push_back(std::move(item.samples));
    }
    current_.reset();
  }
  if (pending_.empty() && !StartBatch()) {
    status_ = set_->status();
    return false;
  }
  current_ = std::move(pending_.front());
  pending_.pop_front();
  // The pool gets the next batch before the consumer helps with this one.
  if (pool_ != nullptr) StartBatch();
  current_->Finish();
  // Size the next batches to about kBatchSamples samples.
  const size_t per_series =
      std::max<size_t>(1, current_->total_samples() / current_->items().size());
  batch_series_ = std::clamp<size_t>(kBatchSamples / per_series, 8, 1024);
  index_ = 0;
  status_ = current_->items()[0].status;
  return status_.ok();
}

const model::Labels& DecodeAhead::labels() const { return current_->items()[index_].labels; }

const std::vector<model::Sample>& DecodeAhead::samples() const {
  return current_->items()[index_].samples;
}

const std::vector<int64_t>& DecodeAhead::starts() const {
  return current_->items()[index_].starts;
}

}  // namespace kura::query
