#include "storage/chunk_series_set.h"

#include <algorithm>
#include <utility>

#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "storage/chunk_decoder.h"
#include "storage/keys.h"
#include "storage/rocksdb_status.h"
#include "storage/timestamp_columns.h"

namespace kura::storage {
namespace {

// Sources overlap rarely (the head's chunks follow the written ones), so the merge runs on
// from the source it last took while that one stays below every other source's next sample:
// one virtual Next and At per sample then, not a scan of every source.
class MergingIterator : public model::SampleIterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<model::SampleIterator>> sources)
      : sources_(std::move(sources)), heads_(sources_.size()), has_(sources_.size(), false) {}

  bool Next() override {
    if (!started_) {
      for (size_t i = 0; i < sources_.size(); ++i) Advance(i);
      started_ = true;
    } else if (current_ >= 0) {
      // The samples of equal timestamps in the other sources were skipped with it already.
      Advance(static_cast<size_t>(current_));
      if (has_[current_] && heads_[current_].timestamp_ms < others_min_ && status_.ok()) {
        return true;
      }
    }
    if (!status_.ok()) return false;
    int best = -1;
    for (size_t i = 0; i < sources_.size(); ++i) {
      if (has_[i] && (best < 0 || heads_[i].timestamp_ms < heads_[best].timestamp_ms)) {
        best = static_cast<int>(i);
      }
    }
    current_ = best;
    if (best < 0) return false;
    // Of equal timestamps the first source's sample is kept; the others' are skipped.
    const int64_t t = heads_[best].timestamp_ms;
    others_min_ = INT64_MAX;
    for (size_t i = 0; i < sources_.size(); ++i) {
      if (static_cast<int>(i) == best) continue;
      while (has_[i] && heads_[i].timestamp_ms <= t) Advance(i);
      if (has_[i]) others_min_ = std::min(others_min_, heads_[i].timestamp_ms);
    }
    return status_.ok();
  }

  model::Sample At() const override { return heads_[current_]; }
  // The source of At() is still on that sample: Next() moves it on only when called again.
  int64_t StartAt() const override { return sources_[current_]->StartAt(); }
  absl::Status status() const override { return status_; }

  absl::Status AppendRemaining(std::vector<model::Sample>* out) override {
    if (started_) return SampleIterator::AppendRemaining(out);  // partly read already
    return AppendSources(out, nullptr);
  }
  absl::Status AppendRemainingWithStarts(std::vector<model::Sample>* out,
                                         std::vector<int64_t>* starts) override {
    if (started_) return SampleIterator::AppendRemainingWithStarts(out, starts);
    return AppendSources(out, starts);
  }

 private:
  // Each source is appended in turn; one that does not start after what is there already
  // (rare: an out-of-order chunk) is merged in, the earlier sources winning equal timestamps.
  // With `starts`, as AppendRemainingWithStarts.
  absl::Status AppendSources(std::vector<model::Sample>* out, std::vector<int64_t>* starts) {
    started_ = true;
    const size_t base = out->size();
    std::vector<model::Sample> merged;
    std::vector<int64_t> merged_starts;
    for (const std::unique_ptr<model::SampleIterator>& source : sources_) {
      const size_t from = out->size();
      status_ = starts != nullptr ? source->AppendRemainingWithStarts(out, starts)
                                  : source->AppendRemaining(out);
      if (!status_.ok()) return status_;
      if (from == base || from == out->size() ||
          (*out)[from].timestamp_ms > (*out)[from - 1].timestamp_ms) {
        continue;
      }
      // Starts past the end of `starts` are 0; none in the range leaves it as it is.
      const bool with_starts = starts != nullptr && starts->size() > base;
      auto take = [&](size_t i) {
        merged.push_back((*out)[i]);
        if (with_starts) merged_starts.push_back(i < starts->size() ? (*starts)[i] : 0);
      };
      merged.clear();
      merged_starts.clear();
      const size_t end = out->size();
      size_t a = base, b = from;
      while (a != from || b != end) {
        if (b == end || (a != from && (*out)[a].timestamp_ms <= (*out)[b].timestamp_ms)) {
          if (b != end && (*out)[b].timestamp_ms == (*out)[a].timestamp_ms) ++b;
          take(a++);
        } else {
          take(b++);
        }
      }
      out->resize(base);
      out->insert(out->end(), merged.begin(), merged.end());
      if (with_starts) {
        starts->resize(base);
        starts->insert(starts->end(), merged_starts.begin(), merged_starts.end());
      }
    }
    return status_;
  }

  void Advance(size_t i) {
    has_[i] = sources_[i]->Next();
    if (has_[i]) {
      heads_[i] = sources_[i]->At();
    } else if (status_.ok()) {
      status_ = sources_[i]->status();
    }
  }

  std::vector<std::unique_ptr<model::SampleIterator>> sources_;
  std::vector<model::Sample> heads_;  // each source's current sample, where has_
  std::vector<bool> has_;
  bool started_ = false;
  int current_ = -1;  // the source of At()
  // The smallest next timestamp of the sources other than current_.
  int64_t others_min_ = INT64_MAX;
  absl::Status status_;
};

// Walks the written chunks of one series in the source's partitions, decoding one at a time.
class StoredChunksIterator : public model::SampleIterator {
 public:
  StoredChunksIterator(const ChunkSource* source, uint64_t ref) : source_(source), ref_(ref) {}
  ~StoredChunksIterator() override {
    chunk_.reset();  // it may read the bytes of entry_'s iterator
    if (entry_ != nullptr) source_->chunks->Return(std::move(entry_));
  }

  bool Next() override {
    while (status_.ok()) {
      if (chunk_ != nullptr) {
        if (chunk_->Next()) return true;
        status_ = chunk_->status();
        chunk_.reset();
        if (!status_.ok()) return false;
      }
      if (!LoadNextChunk()) return false;
    }
    return false;
  }

  model::Sample At() const override { return chunk_->At(); }
  int64_t StartAt() const override { return chunk_->StartAt(); }
  absl::Status status() const override { return status_; }

  absl::Status AppendRemaining(std::vector<model::Sample>* out) override {
    return AppendChunks(out, nullptr);
  }
  absl::Status AppendRemainingWithStarts(std::vector<model::Sample>* out,
                                         std::vector<int64_t>* starts) override {
    return AppendChunks(out, starts);
  }

 private:
  // AppendRemaining, and AppendRemainingWithStarts with `starts`.
  absl::Status AppendChunks(std::vector<model::Sample>* out, std::vector<int64_t>* starts) {
    while (status_.ok()) {
      if (chunk_ != nullptr) {
        status_ = starts != nullptr ? chunk_->AppendRemainingWithStarts(out, starts)
                                    : chunk_->AppendRemaining(out);
        chunk_.reset();
        if (!status_.ok()) break;
      }
      if (!LoadNextChunk()) break;
    }
    return status_;
  }

  // Positions on the next chunk overlapping the range; false at the end or on error.
  bool LoadNextChunk() {
    if (done_) return false;
    if (entry_ == nullptr) {
      entry_ = source_->chunks->Take();
      partition_index_ = -1;
    } else if (advanced_) {
      advanced_ = false;
    } else if (entry_->it->Valid()) {
      entry_->it->Next();
    }
    if (!Position()) {
      // The last chunk's bytes are no longer needed: the next series may use the iterator.
      source_->chunks->Return(std::move(entry_));
      done_ = true;
      return false;
    }
    return true;
  }

  // LoadNextChunk from wherever entry_'s iterator is.
  bool Position() {
    rocksdb::Iterator* const it = entry_->it.get();
    while (true) {
      if (partition_index_ >= 0 && it->Valid() && it->key().starts_with(prefix_)) {
        int64_t partition = 0, min_time_ms = 0;
        uint64_t ref = 0;
        if (!ParseChunkKey(it->key().ToStringView(), &partition, &ref, &min_time_ms)) {
          status_ = absl::DataLossError("malformed chunk key");
          return false;
        }
        if (min_time_ms <= source_->max_time_ms) {
          const std::string_view bytes = it->value().ToStringView();
          if (!IsPackedChunk(bytes)) {
            // Its time bounds would take a decode, and the iterator skips the samples before
            // the range anyway. The bytes stay valid until `it` moves, after this chunk.
            if (min_time_ms >= source_->min_time_ms) {
              chunk_ = NewChunkIterator(bytes, source_->min_time_ms, source_->max_time_ms);
              return true;
            }
            // It starts before the range. Chunks of a series do not overlap, so if the next
            // one starts by the range's start this one ends before it: skipped undecoded,
            // which spares a query over the end of a partition decoding all its earlier
            // chunks. Otherwise its bytes are kept, as the iterator has moved on.
            straddling_.assign(bytes);
            it->Next();
            if (!NextStartsBy(source_->min_time_ms)) {
              chunk_ = NewChunkIterator(straddling_, source_->min_time_ms, source_->max_time_ms);
              advanced_ = true;
              return true;
            }
            continue;
          }
          ChunkMeta meta;
          status_ = ReadChunkMeta(bytes, &meta);
          if (!status_.ok()) return false;
          if (meta.max_time_ms >= source_->min_time_ms) {
            chunk_ = source_->timestamp_columns->NewIterator(partition, bytes,
                                                             source_->min_time_ms,
                                                             source_->max_time_ms);
            return true;
          }
          it->Next();
          continue;
        }
      }
      status_ = FromRocksDB(it->status(), "reading chunks");
      if (!status_.ok()) return false;
      if (++partition_index_ >= static_cast<int>(source_->partitions.size())) return false;
      prefix_ = ChunkSeriesPrefix(source_->partitions[partition_index_], ref_);
      // Bounded to the series' keys in the partition at hand, so the iterator stops at their
      // end instead of reading the next series' first key (and maybe its block). Series refs
      // stay below kTimestampColumnRef, so ref + 1 is the next prefix. The bound may change
      // between seeks of one iterator.
      entry_->upper = ChunkSeriesPrefix(source_->partitions[partition_index_], ref_ + 1);
      entry_->bound = rocksdb::Slice(entry_->upper);
      it->Seek(prefix_);
    }
  }

  // Whether the iterator is on a chunk of the series that starts at or before `time_ms`.
  bool NextStartsBy(int64_t time_ms) const {
    const rocksdb::Iterator* const it = entry_->it.get();
    int64_t partition = 0, min_time_ms = 0;
    uint64_t ref = 0;
    return it->Valid() && it->key().starts_with(prefix_) &&
           ParseChunkKey(it->key().ToStringView(), &partition, &ref, &min_time_ms) &&
           min_time_ms <= time_ms;
  }

  const ChunkSource* source_;
  uint64_t ref_;
  // Taken from the pool for the first chunk, given back after the last or on destruction.
  std::unique_ptr<ChunkIteratorPool::Entry> entry_;
  bool done_ = false;
  int partition_index_ = -1;
  std::string prefix_;
  // A chunk that starts before the range, read after the iterator moved past it.
  std::string straddling_;
  bool advanced_ = false;  // the iterator is already on the chunk after chunk_'s
  std::unique_ptr<model::SampleIterator> chunk_;
  absl::Status status_;
};

class TombstoneFilter : public model::SampleIterator {
 public:
  TombstoneFilter(std::unique_ptr<model::SampleIterator> it, std::vector<TimeInterval> deleted)
      : it_(std::move(it)), deleted_(std::move(deleted)) {}

  bool Next() override {
    while (it_->Next()) {
      if (!IsDeleted(it_->At().timestamp_ms)) return true;
    }
    return false;
  }
  model::Sample At() const override { return it_->At(); }
  int64_t StartAt() const override { return it_->StartAt(); }
  absl::Status status() const override { return it_->status(); }

  absl::Status AppendRemaining(std::vector<model::Sample>* out) override {
    const size_t from = out->size();
    const absl::Status status = it_->AppendRemaining(out);
    const auto kept =
        std::remove_if(out->begin() + static_cast<std::ptrdiff_t>(from), out->end(),
                       [&](const model::Sample& s) { return IsDeleted(s.timestamp_ms); });
    out->erase(kept, out->end());
    return status;
  }

  absl::Status AppendRemainingWithStarts(std::vector<model::Sample>* out,
                                         std::vector<int64_t>* starts) override {
    const size_t from = out->size();
    const absl::Status status = it_->AppendRemainingWithStarts(out, starts);
    // Compacts both in step; a start past the end of `starts` is 0.
    size_t kept = from;
    for (size_t i = from; i < out->size(); ++i) {
      if (IsDeleted((*out)[i].timestamp_ms)) continue;
      (*out)[kept] = (*out)[i];
      if (kept < starts->size()) (*starts)[kept] = i < starts->size() ? (*starts)[i] : 0;
      ++kept;
    }
    out->resize(kept);
    if (starts->size() > kept) starts->resize(kept);
    return status;
  }

 private:
  // REQUIRES: `t` ascends from call to call: intervals wholly before it never match again.
  bool IsDeleted(int64_t t) {
    while (next_ < deleted_.size() && deleted_[next_].max_time_ms < t) ++next_;
    for (size_t i = next_; i < deleted_.size() && deleted_[i].min_time_ms <= t; ++i) {
      if (deleted_[i].Contains(t)) return true;
    }
    return false;
  }

  std::unique_ptr<model::SampleIterator> it_;
  std::vector<TimeInterval> deleted_;
  size_t next_ = 0;
};

// The merged, filtered samples of one series; `source` must outlive the iterator.
std::unique_ptr<model::SampleIterator> NewSeriesIterator(const ChunkSource* source,
                                                         const ChunkSeriesData& data) {
  std::vector<std::unique_ptr<model::SampleIterator>> sources;
  sources.push_back(std::make_unique<StoredChunksIterator>(source, data.ref));
  for (const std::string& chunk : data.head_chunks) {
    // Owning copies: an iterator may outlive its series (SeriesSet::Next replaces it).
    sources.push_back(NewOwningChunkIterator(chunk, source->min_time_ms, source->max_time_ms));
  }
  std::unique_ptr<model::SampleIterator> merged = NewMergingIterator(std::move(sources));
  if (data.deleted.empty()) return merged;
  return NewTombstoneFilter(std::move(merged), data.deleted);
}

class ChunkSeries : public model::Series {
 public:
  ChunkSeries(std::shared_ptr<const ChunkSource> source, ChunkSeriesData data)
      : source_(std::move(source)), data_(std::move(data)) {}

  const model::Labels& labels() const override { return data_.labels; }

  std::unique_ptr<model::SampleIterator> NewIterator() const override {
    return std::make_unique<OwningIterator>(source_, NewSeriesIterator(source_.get(), data_));
  }

 private:
  // Keeps the shared source alive for iterators that outlive the set.
  class OwningIterator : public model::SampleIterator {
   public:
    OwningIterator(std::shared_ptr<const ChunkSource> source,
                   std::unique_ptr<model::SampleIterator> it)
        : source_(std::move(source)), it_(std::move(it)) {}
    bool Next() override { return it_->Next(); }
    model::Sample At() const override { return it_->At(); }
    int64_t StartAt() const override { return it_->StartAt(); }
    absl::Status status() const override { return it_->status(); }
    absl::Status AppendRemaining(std::vector<model::Sample>* out) override {
      return it_->AppendRemaining(out);
    }
    absl::Status AppendRemainingWithStarts(std::vector<model::Sample>* out,
                                           std::vector<int64_t>* starts) override {
      return it_->AppendRemainingWithStarts(out, starts);
    }

   private:
    std::shared_ptr<const ChunkSource> source_;
    std::unique_ptr<model::SampleIterator> it_;
  };

  std::shared_ptr<const ChunkSource> source_;
  ChunkSeriesData data_;
};

class ChunkSeriesSet : public model::SeriesSet {
 public:
  ChunkSeriesSet(ChunkSource source, std::vector<ChunkSeriesData> series)
      : source_(std::make_shared<const ChunkSource>(std::move(source))),
        series_(std::move(series)) {}

  bool Next() override {
    while (next_ < series_.size() && status_.ok()) {
      ChunkSeriesData& data = series_[next_++];
      if (!data.deleted.empty()) {
        absl::StatusOr<bool> has_samples = HasSamples(*source_, data);
        if (!has_samples.ok()) {
          status_ = has_samples.status();
          return false;
        }
        if (!*has_samples) continue;
      }
      current_ = std::make_unique<ChunkSeries>(source_, std::move(data));
      return true;
    }
    return false;
  }
  const model::Series& At() const override { return *current_; }
  absl::Status status() const override { return status_; }

 private:
  std::shared_ptr<const ChunkSource> source_;
  std::vector<ChunkSeriesData> series_;
  size_t next_ = 0;
  std::unique_ptr<ChunkSeries> current_;
  absl::Status status_;
};

}  // namespace

ChunkIteratorPool::Entry::~Entry() = default;
ChunkIteratorPool::~ChunkIteratorPool() = default;

std::unique_ptr<ChunkIteratorPool::Entry> ChunkIteratorPool::Take() {
  {
    absl::MutexLock lock(&mu_);
    if (!free_.empty()) {
      std::unique_ptr<Entry> entry = std::move(free_.back());
      free_.pop_back();
      return entry;
    }
  }
  auto entry = std::make_unique<Entry>();
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &entry->bound;
  entry->it.reset(db_->NewIterator(options, chunks_));
  return entry;
}

void ChunkIteratorPool::Return(std::unique_ptr<Entry> entry) {
  if (!entry->it->status().ok()) return;  // not to be trusted by the next series
  absl::MutexLock lock(&mu_);
  free_.push_back(std::move(entry));
}

std::unique_ptr<model::SampleIterator> NewMergingIterator(
    std::vector<std::unique_ptr<model::SampleIterator>> sources) {
  if (sources.size() == 1) return std::move(sources.front());
  return std::make_unique<MergingIterator>(std::move(sources));
}

std::unique_ptr<model::SampleIterator> NewTombstoneFilter(std::unique_ptr<model::SampleIterator> it,
                                                          std::vector<TimeInterval> deleted) {
  return std::make_unique<TombstoneFilter>(std::move(it), std::move(deleted));
}

absl::StatusOr<bool> HasSamples(const ChunkSource& source, const ChunkSeriesData& series) {
  for (const TimeInterval& interval : series.deleted) {
    if (interval.min_time_ms <= source.min_time_ms && interval.max_time_ms >= source.max_time_ms) {
      return false;
    }
  }
  std::unique_ptr<model::SampleIterator> it = NewSeriesIterator(&source, series);
  if (it->Next()) return true;
  RETURN_IF_ERROR(it->status());
  return false;
}

std::unique_ptr<model::SeriesSet> NewChunkSeriesSet(ChunkSource source,
                                                    std::vector<ChunkSeriesData> series) {
  return std::make_unique<ChunkSeriesSet>(std::move(source), std::move(series));
}

}  // namespace kura::storage
