#include "storage/metadata_store.h"

#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb_status.h"

namespace kura::storage {
namespace {

void PutLengthPrefixed(std::string* out, std::string_view bytes) {
  uint64_t n = bytes.size();
  while (n >= 0x80) {
    out->push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out->push_back(static_cast<char>(n));
  out->append(bytes);
}

bool GetLengthPrefixed(std::string_view* in, std::string* out) {
  uint64_t n = 0;
  for (int shift = 0;; shift += 7) {
    if (in->empty() || shift > 63) return false;
    const auto byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    n |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  if (n > in->size()) return false;
  out->assign(in->substr(0, n));
  in->remove_prefix(n);
  return true;
}

}  // namespace

std::string EncodeMetadataValue(const model::MetricMetadata& metadata) {
  std::string value;
  PutLengthPrefixed(&value, metadata.type);
  PutLengthPrefixed(&value, metadata.help);
  PutLengthPrefixed(&value, metadata.unit);
  return value;
}

bool ParseMetadataValue(std::string_view value, model::MetricMetadata* metadata) {
  return GetLengthPrefixed(&value, &metadata->type) && GetLengthPrefixed(&value, &metadata->help) &&
         GetLengthPrefixed(&value, &metadata->unit) && value.empty();
}

absl::Status MetadataStore::Load() {
  absl::btree_map<std::string, model::MetricMetadata> loaded;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    model::MetricMetadata metadata;
    metadata.family = it->key().ToString();
    if (!ParseMetadataValue(it->value().ToStringView(), &metadata)) {
      return absl::DataLossError("malformed metadata value");
    }
    loaded.emplace(metadata.family, std::move(metadata));
  }
  RETURN_IF_ERROR(FromRocksDB(it->status(), "reading metadata"));
  absl::MutexLock lock(&mu_);
  entries_ = std::move(loaded);
  return absl::OkStatus();
}

absl::Status MetadataStore::Update(absl::Span<const model::MetricMetadata> entries,
                                   const rocksdb::WriteOptions& options) {
  // Under the lock throughout, so two updates of one family land in the order they write.
  absl::MutexLock lock(&mu_);
  absl::flat_hash_map<std::string_view, const model::MetricMetadata*> changed;
  for (const model::MetricMetadata& entry : entries) {
    auto known = entries_.find(entry.family);
    if (known != entries_.end() && known->second == entry) {
      changed.erase(entry.family);  // a later entry puts it back as it was
    } else {
      changed[entry.family] = &entry;
    }
  }
  if (changed.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  for (const auto& [family, entry] : changed) {
    batch.Put(family_, rocksdb::Slice(family.data(), family.size()), EncodeMetadataValue(*entry))
        .PermitUncheckedError();
  }
  RETURN_IF_ERROR(FromRocksDB(db_->Write(options, &batch), "writing metadata"));
  for (const auto& [family, entry] : changed) entries_[entry->family] = *entry;
  return absl::OkStatus();
}

std::vector<model::MetricMetadata> MetadataStore::Get(std::string_view family) const {
  absl::MutexLock lock(&mu_);
  std::vector<model::MetricMetadata> out;
  if (!family.empty()) {
    if (auto it = entries_.find(std::string(family)); it != entries_.end()) {
      out.push_back(it->second);
    }
    return out;
  }
  out.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) out.push_back(entry);
  return out;
}

}  // namespace kura::storage
