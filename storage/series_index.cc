#include "storage/series_index.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/keys.h"
#include "storage/rocksdb_status.h"

namespace kura::storage {

absl::Status SeriesIndex::Init() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family_));
  // The by-ref keys are the 'r' range; seek just past its end and step back.
  it->SeekForPrev(SeriesByRefKey(UINT64_MAX));
  uint64_t last = 0;
  if (it->Valid() && ParseSeriesByRefKey(it->key().ToStringView(), &last)) next_ref_ = last + 1;
  return FromRocksDB(it->status(), "reading the series index");
}

absl::StatusOr<std::optional<uint64_t>> SeriesIndex::Lookup(
    std::string_view canonical_labels) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), family_, SeriesByLabelsKey(canonical_labels), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocksDB(s, "looking up a series");
  if (value.size() != 8) return absl::DataLossError("malformed series ref");
  return DecodeUint64BE(value);
}

absl::StatusOr<std::vector<std::string>> SeriesIndex::CanonicalLabelsOf(
    absl::Span<const uint64_t> refs) const {
  std::vector<std::string> keys;
  keys.reserve(refs.size());
  for (uint64_t ref : refs) keys.push_back(SeriesByRefKey(ref));
  std::vector<rocksdb::Slice> key_slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> families(keys.size(), family_);
  std::vector<std::string> values;
  std::vector<rocksdb::Status> statuses =
      db_->MultiGet(rocksdb::ReadOptions(), families, key_slices, &values);
  for (size_t i = 0; i < refs.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      return absl::DataLossError(absl::StrCat("series ref ", refs[i], " has no labels"));
    }
    if (!statuses[i].ok()) return FromRocksDB(statuses[i], "reading series labels");
  }
  return values;
}

absl::StatusOr<std::vector<model::Labels>> SeriesIndex::LabelsOf(
    absl::Span<const uint64_t> refs) const {
  ASSIGN_OR_RETURN(std::vector<std::string> canonical, CanonicalLabelsOf(refs));
  std::vector<model::Labels> out(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!model::Labels::ParseCanonical(canonical[i], &out[i])) {
      return absl::DataLossError(absl::StrCat("malformed labels of series ref ", refs[i]));
    }
  }
  return out;
}

void SeriesIndex::AddToBatch(uint64_t ref, std::string_view canonical_labels,
                             rocksdb::WriteBatch* batch) const {
  std::string ref_bytes;
  PutUint64BE(&ref_bytes, ref);
  rocksdb::Slice labels(canonical_labels.data(), canonical_labels.size());
  batch->Put(family_, SeriesByLabelsKey(canonical_labels), ref_bytes).PermitUncheckedError();
  batch->Put(family_, SeriesByRefKey(ref), labels).PermitUncheckedError();
}

}  // namespace kura::storage
