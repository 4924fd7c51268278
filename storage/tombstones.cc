#include "storage/tombstones.h"

#include <algorithm>
#include <memory>
#include <string>

#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/keys.h"
#include "storage/rocksdb_status.h"

namespace kura::storage {
namespace {

void SortIntervals(std::vector<TimeInterval>* intervals) {
  std::sort(intervals->begin(), intervals->end(), [](const TimeInterval& a, const TimeInterval& b) {
    return a.min_time_ms < b.min_time_ms ||
           (a.min_time_ms == b.min_time_ms && a.max_time_ms < b.max_time_ms);
  });
}

rocksdb::WriteOptions SyncedWrite() {
  rocksdb::WriteOptions options;
  options.sync = true;
  return options;
}

}  // namespace

absl::Status Tombstones::Load() {
  absl::flat_hash_map<uint64_t, std::vector<TimeInterval>> loaded;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint64_t ref = 0;
    TimeInterval interval;
    if (!ParseTombstoneKey(it->key().ToStringView(), &ref, &interval.min_time_ms,
                           &interval.max_time_ms)) {
      return absl::DataLossError("malformed tombstone key");
    }
    loaded[ref].push_back(interval);  // keys sort by ref, then interval
  }
  RETURN_IF_ERROR(FromRocksDB(it->status(), "reading tombstones"));
  absl::MutexLock lock(&mu_);
  intervals_ = std::move(loaded);
  return absl::OkStatus();
}

absl::Status Tombstones::Add(absl::Span<const std::pair<uint64_t, TimeInterval>> entries) {
  if (entries.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  for (const auto& [ref, interval] : entries) {
    batch.Put(family_, TombstoneKey(ref, interval.min_time_ms, interval.max_time_ms), "")
        .PermitUncheckedError();
  }
  // Under the lock: a concurrent Replace of the same ref must not lose these.
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(FromRocksDB(db_->Write(SyncedWrite(), &batch), "writing tombstones"));
  for (const auto& [ref, interval] : entries) {
    std::vector<TimeInterval>& intervals = intervals_[ref];
    intervals.push_back(interval);
    SortIntervals(&intervals);
    intervals.erase(std::unique(intervals.begin(), intervals.end(),
                                [](const TimeInterval& a, const TimeInterval& b) {
                                  return a.min_time_ms == b.min_time_ms &&
                                         a.max_time_ms == b.max_time_ms;
                                }),
                    intervals.end());
  }
  return absl::OkStatus();
}

absl::Status Tombstones::Replace(uint64_t ref, std::vector<TimeInterval> intervals) {
  SortIntervals(&intervals);
  rocksdb::WriteBatch batch;
  absl::MutexLock lock(&mu_);
  auto it = intervals_.find(ref);
  if (it != intervals_.end()) {
    for (const TimeInterval& old : it->second) {
      batch.Delete(family_, TombstoneKey(ref, old.min_time_ms, old.max_time_ms))
          .PermitUncheckedError();
    }
  }
  for (const TimeInterval& interval : intervals) {
    batch.Put(family_, TombstoneKey(ref, interval.min_time_ms, interval.max_time_ms), "")
        .PermitUncheckedError();
  }
  RETURN_IF_ERROR(FromRocksDB(db_->Write(SyncedWrite(), &batch), "writing tombstones"));
  if (intervals.empty()) {
    intervals_.erase(ref);
  } else {
    intervals_[ref] = std::move(intervals);
  }
  return absl::OkStatus();
}

std::vector<TimeInterval> Tombstones::Of(uint64_t ref) const {
  absl::MutexLock lock(&mu_);
  auto it = intervals_.find(ref);
  if (it == intervals_.end()) return {};
  return it->second;
}

std::vector<uint64_t> Tombstones::Refs() const {
  std::vector<uint64_t> refs;
  {
    absl::MutexLock lock(&mu_);
    refs.reserve(intervals_.size());
    for (const auto& [ref, intervals] : intervals_) refs.push_back(ref);
  }
  std::sort(refs.begin(), refs.end());
  return refs;
}

size_t Tombstones::num_series() const {
  absl::MutexLock lock(&mu_);
  return intervals_.size();
}

bool Tombstones::empty() const {
  absl::MutexLock lock(&mu_);
  return intervals_.empty();
}

}  // namespace kura::storage
