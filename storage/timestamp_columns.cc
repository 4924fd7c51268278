#include "storage/timestamp_columns.h"

#include <optional>

#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "storage/chunk_decoder.h"
#include "storage/keys.h"
#include "storage/rocksdb_status.h"

namespace kura::storage {
namespace {

// The iterator for a chunk whose column could not be read: no samples, the error.
class FailedIterator final : public model::SampleIterator {
 public:
  explicit FailedIterator(absl::Status status) : status_(std::move(status)) {}
  bool Next() override { return false; }
  model::Sample At() const override { return {}; }
  absl::Status status() const override { return status_; }

 private:
  absl::Status status_;
};

}  // namespace

std::unique_ptr<model::SampleIterator> TimestampColumns::NewIterator(int64_t partition,
                                                                     std::string_view chunk,
                                                                     int64_t min_time_ms,
                                                                     int64_t max_time_ms) const {
  const std::optional<uint64_t> id = PackedChunkTimestampColumn(chunk);
  if (!id.has_value()) return NewOwningChunkIterator(std::string(chunk), min_time_ms, max_time_ms);
  absl::StatusOr<std::shared_ptr<const TimestampColumn>> column = Get(partition, *id);
  if (!column.ok()) return std::make_unique<FailedIterator>(column.status());
  return NewPackedChunkIterator(chunk, min_time_ms, max_time_ms, column->get());
}

absl::StatusOr<std::shared_ptr<const TimestampColumn>> TimestampColumns::Get(int64_t partition,
                                                                             uint64_t id) const {
  const std::pair<int64_t, uint64_t> key(partition, id);
  {
    absl::MutexLock lock(&mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  std::string bytes;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), chunks_, TimestampColumnKey(partition, id), &bytes);
  if (s.IsNotFound()) return absl::DataLossError("a packed chunk's timestamp column is missing");
  RETURN_IF_ERROR(FromRocksDB(s, "reading a timestamp column"));
  absl::StatusOr<TimestampColumn> decoded = DecodeTimestampColumn(bytes);
  if (!decoded.ok()) return decoded.status();
  auto column = std::make_shared<const TimestampColumn>(*std::move(decoded));
  const int64_t bytes_held = static_cast<int64_t>(column->size() * sizeof(int64_t));
  absl::MutexLock lock(&mu_);
  // Columns are few (one per scrape target and partition) and cheap to read again: when the
  // budget is full, start over rather than track recency.
  if (cached_bytes_ + bytes_held > cache_bytes_) {
    cache_.clear();
    cached_bytes_ = 0;
  }
  if (bytes_held <= cache_bytes_ && cache_.emplace(key, column).second) {
    cached_bytes_ += bytes_held;
  }
  return column;
}

}  // namespace kura::storage
