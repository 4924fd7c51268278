#include "storage/wal.h"

#include <bit>
#include <memory>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/keys.h"
#include "storage/rocksdb_status.h"

namespace kura::storage {
namespace {

constexpr char kWalRecordVersion = 1;

}  // namespace

void EncodeWalRecord(absl::Span<const WalSeriesSamples> series, std::string* dst) {
  dst->push_back(kWalRecordVersion);
  PutVarint64(dst, series.size());
  for (const WalSeriesSamples& s : series) {
    PutVarint64(dst, s.ref);
    PutVarint64(dst, s.samples.size());
    for (const model::Sample& sample : s.samples) {
      PutInt64BE(dst, sample.timestamp_ms);
      PutUint64BE(dst, std::bit_cast<uint64_t>(sample.value));
    }
  }
}

bool DecodeWalRecord(std::string_view in, std::vector<WalSeriesSamples>* out) {
  out->clear();
  if (in.empty() || in[0] != kWalRecordVersion) return false;
  in.remove_prefix(1);
  uint64_t num_series = 0;
  if (!GetVarint64(&in, &num_series) || num_series > in.size()) return false;
  out->resize(num_series);
  for (WalSeriesSamples& s : *out) {
    uint64_t num_samples = 0;
    if (!GetVarint64(&in, &s.ref) || !GetVarint64(&in, &num_samples)) return false;
    if (num_samples > in.size() / 16) return false;
    s.samples.resize(num_samples);
    for (model::Sample& sample : s.samples) {
      sample.timestamp_ms = DecodeInt64BE(in);
      sample.value = std::bit_cast<double>(DecodeUint64BE(in.substr(8)));
      in.remove_prefix(16);
    }
  }
  return in.empty();
}

absl::Status Wal::Init() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family_));
  it->SeekToLast();
  if (it->Valid()) {
    uint64_t last = 0;
    if (!ParseWalKey(it->key().ToStringView(), &last)) {
      return absl::DataLossError("malformed WAL key");
    }
    next_sequence_ = last + 1;
  }
  return FromRocksDB(it->status(), "reading the WAL");
}

uint64_t Wal::AddToBatch(std::string_view record, rocksdb::WriteBatch* batch) {
  const uint64_t sequence = next_sequence_++;
  // A failed Put only happens for oversized keys or values; the batch write then fails too.
  batch->Put(family_, WalKey(sequence), rocksdb::Slice(record.data(), record.size()))
      .PermitUncheckedError();
  return sequence;
}

void Wal::AddTruncateToBatch(uint64_t end, rocksdb::WriteBatch* batch) {
  batch->DeleteRange(family_, WalKey(0), WalKey(end)).PermitUncheckedError();
}

absl::Status Wal::Replay(
    absl::FunctionRef<absl::Status(uint64_t sequence, std::string_view record)> fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint64_t sequence = 0;
    if (!ParseWalKey(it->key().ToStringView(), &sequence)) {
      return absl::DataLossError("malformed WAL key");
    }
    absl::Status status = fn(sequence, it->value().ToStringView());
    if (!status.ok()) return status;
  }
  return FromRocksDB(it->status(), "replaying the WAL");
}

}  // namespace kura::storage
