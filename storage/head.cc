#include "storage/head.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "storage/chunk_decoder.h"
#include "storage/chunk_format.h"
#include "storage/keys.h"

namespace kura::storage {
namespace {

// A head series besides its labels and chunk: the struct and the allocator's rounding of it,
// and its slots in the two maps (a slot and a control byte each, at the maps' load of 7/8 down
// to 7/16: ~1.5x).
constexpr int64_t kSeriesOverheadBytes =
    sizeof(HeadSeries) + 16 +
    (sizeof(std::pair<uint64_t, std::unique_ptr<HeadSeries>>) + 1 +
     sizeof(std::pair<model::CanonicalLabels, HeadSeries*>) + 1) *
        3 / 2;
// The labels' allocation besides their bytes: its header, rounded.
constexpr int64_t kLabelsOverheadBytes = 32;

// What a string's buffer holds on the heap: nothing while it fits the string itself.
int64_t HeapBytes(const std::string& s) {
  return s.capacity() > 15 ? static_cast<int64_t>(s.capacity()) + 1 : 0;
}

// Searches one encoded chunk for a timestamp.
std::optional<double> FindInChunk(std::string_view chunk, int64_t timestamp_ms) {
  std::unique_ptr<model::SampleIterator> it = NewChunkIterator(chunk, timestamp_ms, timestamp_ms);
  if (it->Next() && it->At().timestamp_ms == timestamp_ms) return it->At().value;
  return std::nullopt;
}

}  // namespace

HeadSeries* Head::Find(uint64_t ref) {
  auto it = series_.find(ref);
  return it == series_.end() ? nullptr : it->second.get();
}

const HeadSeries* Head::Find(uint64_t ref) const {
  auto it = series_.find(ref);
  return it == series_.end() ? nullptr : it->second.get();
}

HeadSeries* Head::FindByLabels(std::string_view canonical_labels) {
  return FindByLabels(
      CanonicalLabelsView{canonical_labels, model::Labels::HashCanonical(canonical_labels)});
}

HeadSeries* Head::FindByLabels(CanonicalLabelsView canonical_labels) {
  auto it = series_by_labels_.find(canonical_labels);
  return it == series_by_labels_.end() ? nullptr : it->second;
}

HeadSeries* Head::Create(uint64_t ref, std::string_view canonical_labels) {
  return Create(ref, model::CanonicalLabels::Copy(canonical_labels,
                                                  model::Labels::HashCanonical(canonical_labels)));
}

HeadSeries* Head::Create(uint64_t ref, model::CanonicalLabels canonical_labels) {
  auto series = std::make_unique<HeadSeries>();
  series->ref = ref;
  series->labels = canonical_labels;
  HeadSeries* raw = series.get();
  series_.emplace(ref, std::move(series));
  series_bytes_ += SeriesMemory(canonical_labels);
  chunk_bytes_ += ChunkMemory(raw->chunk);
  series_by_labels_.emplace(std::move(canonical_labels), raw);
  return raw;
}

int64_t Head::SeriesMemory(const model::CanonicalLabels& labels) {
  return kSeriesOverheadBytes + kLabelsOverheadBytes + static_cast<int64_t>(labels.bytes().size());
}

int64_t Head::ChunkMemory(const ChunkEncoder& chunk) {
  const size_t capacity = chunk.capacity_bytes();
  return capacity > 15 ? static_cast<int64_t>(capacity) + 1 : 0;
}

void Head::CloseChunk(HeadSeries* series) {
  ClosedChunk closed;
  closed.ref = series->ref;
  closed.partition = series->chunk_partition;
  closed.min_time_ms = series->chunk.min_time_ms();
  closed.max_time_ms = series->chunk.max_time_ms();
  chunk_bytes_ -= ChunkMemory(series->chunk);
  const bool had_starts = series->chunk.has_starts();
  // Moved, not copied: the buffer is within an eighth of its size, and it is written out soon.
  closed.bytes = series->chunk.TakeBytes();
  if (had_starts) series->chunk = ChunkEncoder::WithStarts();
  chunk_bytes_ += ChunkMemory(series->chunk);
  pending_bytes_ += HeapBytes(closed.bytes);
  pending_.push_back(std::move(closed));
}

void Head::Append(HeadSeries* series, const model::Sample& sample, int64_t start_ms) {
  const int64_t partition = PartitionOf(sample.timestamp_ms, partition_length_ms_);
  if (series->chunk.num_samples() > 0 &&
      (series->chunk.num_samples() >= max_samples_per_chunk_ ||
       partition != series->chunk_partition || (start_ms != 0 && !series->chunk.has_starts()))) {
    CloseChunk(series);
  }
  if (series->chunk.num_samples() == 0) series->chunk_partition = partition;
  const int64_t before = ChunkMemory(series->chunk);
  series->chunk.Append(sample.timestamp_ms, sample.value, start_ms);
  chunk_bytes_ += ChunkMemory(series->chunk) - before;
  series->newest = sample;
}

void Head::InsertOutOfOrder(HeadSeries* series, const model::Sample& sample, int64_t start_ms) {
  const int64_t t = sample.timestamp_ms;
  auto by_time = [](const model::Sample& s, int64_t time) { return s.timestamp_ms < time; };
  if (series->chunk.num_samples() > 0 && t >= series->chunk.min_time_ms()) {
    // At most max_samples_per_chunk samples: decoding and re-encoding them is cheap, and the
    // open chunk stays one ascending chunk. The encoder wrote these bytes; they decode.
    std::vector<model::Sample> samples;
    std::vector<int64_t> starts;
    // Dropped: bytes this encoder wrote decode, as the comment above says.
    NewChunkIterator(series->chunk.bytes())
        ->AppendRemainingWithStarts(&samples, &starts)
        .IgnoreError();
    auto pos = std::lower_bound(samples.begin(), samples.end(), t, by_time);
    if (pos != samples.end() && pos->timestamp_ms == t) return;
    const size_t index = static_cast<size_t>(pos - samples.begin());
    samples.insert(pos, sample);
    if (start_ms != 0 || !starts.empty()) {
      starts.resize(samples.size() - 1, 0);
      starts.insert(starts.begin() + static_cast<std::ptrdiff_t>(index), start_ms);
    }
    ChunkEncoder rebuilt =
        series->chunk.has_starts() || start_ms != 0 ? ChunkEncoder::WithStarts() : ChunkEncoder();
    for (size_t i = 0; i < samples.size(); ++i) {
      rebuilt.Append(samples[i].timestamp_ms, samples[i].value, i < starts.size() ? starts[i] : 0);
    }
    chunk_bytes_ += ChunkMemory(rebuilt) - ChunkMemory(series->chunk);
    series->chunk = std::move(rebuilt);
    return;
  }
  std::vector<OutOfOrderSample>& buffer = series->out_of_order;
  auto pos = std::lower_bound(
      buffer.begin(), buffer.end(), t,
      [](const OutOfOrderSample& s, int64_t time) { return s.sample.timestamp_ms < time; });
  if (pos != buffer.end() && pos->sample.timestamp_ms == t) return;
  buffer.insert(pos, {sample, start_ms});
  ++num_out_of_order_;
}

void Head::CloseAllChunks() { CloseChunksBefore(INT64_MAX); }

void Head::CloseChunksBefore(int64_t partition) {
  for (auto& [ref, series] : series_) {
    if (series->chunk.num_samples() > 0 && series->chunk_partition < partition) {
      CloseChunk(series.get());
    }
  }
}

int64_t Head::memory_bytes() const {
  return series_bytes_ + chunk_bytes_ + pending_bytes_ +
         num_out_of_order_ * static_cast<int64_t>(sizeof(OutOfOrderSample));
}

int64_t Head::chunk_memory_bytes() const {
  return chunk_bytes_ + pending_bytes_ +
         num_out_of_order_ * static_cast<int64_t>(sizeof(OutOfOrderSample));
}

std::vector<HeadSeries*> Head::SeriesWithOutOfOrder() {
  std::vector<HeadSeries*> out;
  if (num_out_of_order_ == 0) return out;
  for (auto& [ref, series] : series_) {
    if (!series->out_of_order.empty()) out.push_back(series.get());
  }
  return out;
}

void Head::ClearOutOfOrder(HeadSeries* series) {
  num_out_of_order_ -= static_cast<int64_t>(series->out_of_order.size());
  series->out_of_order.clear();
  series->out_of_order.shrink_to_fit();
}

bool Head::RestoreOpenChunk(HeadSeries* series, std::string_view chunk) {
  ChunkTail tail;
  if (series->chunk.num_samples() == 0 && ReadChunkTail(chunk, &tail).ok() &&
      tail.num_samples > 0) {
    // The encoder goes on from the bytes as they are: restart decodes each open chunk once
    // and encodes nothing.
    series->chunk_partition = PartitionOf(tail.min_time_ms, partition_length_ms_);
    const int64_t before = ChunkMemory(series->chunk);
    series->chunk = ChunkEncoder::Resume(chunk, tail);
    chunk_bytes_ += ChunkMemory(series->chunk) - before;
    series->newest = {tail.max_time_ms, std::bit_cast<double>(tail.bits)};
    return true;
  }
  std::unique_ptr<model::SampleIterator> it = NewChunkIterator(chunk);
  if (series->chunk.num_samples() == 0 &&
      chunk_format::UnpackedVersion(chunk) == chunk_format::kVersionWithStarts) {
    series->chunk = ChunkEncoder::WithStarts();
  }
  while (it->Next()) {
    const model::Sample sample = it->At();
    if (series->chunk.num_samples() == 0) {
      series->chunk_partition = PartitionOf(sample.timestamp_ms, partition_length_ms_);
    }
    const int64_t before = ChunkMemory(series->chunk);
    series->chunk.Append(sample.timestamp_ms, sample.value, it->StartAt());
    chunk_bytes_ += ChunkMemory(series->chunk) - before;
    series->newest = sample;
  }
  return it->status().ok();
}

std::optional<double> Head::FindSample(const HeadSeries& series, int64_t timestamp_ms,
                                       bool* older) const {
  *older = false;
  const std::vector<OutOfOrderSample>& buffer = series.out_of_order;
  auto pos = std::lower_bound(
      buffer.begin(), buffer.end(), timestamp_ms,
      [](const OutOfOrderSample& s, int64_t time) { return s.sample.timestamp_ms < time; });
  if (pos != buffer.end() && pos->sample.timestamp_ms == timestamp_ms) return pos->sample.value;
  int64_t head_min_time = INT64_MAX;
  for (const ClosedChunk& closed : pending_) {
    if (closed.ref != series.ref) continue;
    head_min_time = std::min(head_min_time, closed.min_time_ms);
    if (timestamp_ms >= closed.min_time_ms && timestamp_ms <= closed.max_time_ms) {
      return FindInChunk(closed.bytes, timestamp_ms);
    }
  }
  if (series.chunk.num_samples() > 0) {
    head_min_time = std::min(head_min_time, series.chunk.min_time_ms());
    if (timestamp_ms >= series.chunk.min_time_ms()) {
      return FindInChunk(series.chunk.bytes(), timestamp_ms);
    }
  }
  *older = timestamp_ms < head_min_time;
  return std::nullopt;
}

void Head::CopyChunks(uint64_t ref, int64_t min_time_ms, int64_t max_time_ms,
                      std::vector<std::string>* out) const {
  for (const ClosedChunk& closed : pending_) {
    if (closed.ref == ref && closed.max_time_ms >= min_time_ms &&
        closed.min_time_ms <= max_time_ms) {
      out->push_back(closed.bytes);
    }
  }
  auto it = series_.find(ref);
  if (it == series_.end()) return;
  const ChunkEncoder& chunk = it->second->chunk;
  if (chunk.num_samples() > 0 && chunk.max_time_ms() >= min_time_ms &&
      chunk.min_time_ms() <= max_time_ms) {
    out->emplace_back(chunk.bytes());
  }
  const std::vector<OutOfOrderSample>& buffer = it->second->out_of_order;
  if (!buffer.empty() && buffer.back().sample.timestamp_ms >= min_time_ms &&
      buffer.front().sample.timestamp_ms <= max_time_ms) {
    const bool with_starts = std::any_of(buffer.begin(), buffer.end(),
                                         [](const OutOfOrderSample& s) { return s.start_ms != 0; });
    ChunkEncoder encoded = with_starts ? ChunkEncoder::WithStarts() : ChunkEncoder();
    for (const OutOfOrderSample& s : buffer) {
      encoded.Append(s.sample.timestamp_ms, s.sample.value, s.start_ms);
    }
    out->emplace_back(encoded.bytes());
  }
}

size_t Head::EvictIdle(int64_t partition) {
  // A series keeps its out-of-order samples in memory only: it stays until they are written.
  auto idle = [&](const HeadSeries& series) {
    if (!series.out_of_order.empty()) return false;
    return !series.newest.has_value() ||
           PartitionOf(series.newest->timestamp_ms, partition_length_ms_) < partition;
  };
  // The by-labels entries go first: they point at the series.
  absl::erase_if(series_by_labels_, [&](const auto& entry) {
    if (!idle(*entry.second)) return false;
    series_bytes_ -= SeriesMemory(entry.first);
    return true;
  });
  size_t evicted = 0;
  for (auto it = series_.begin(); it != series_.end();) {
    HeadSeries* series = it->second.get();
    if (!idle(*series)) {
      ++it;
      continue;
    }
    if (series->chunk.num_samples() > 0) CloseChunk(series);
    chunk_bytes_ -= ChunkMemory(series->chunk);
    series_.erase(it++);
    ++evicted;
  }
  return evicted;
}

void Head::ForEach(absl::FunctionRef<void(const HeadSeries&)> fn) const {
  for (const auto& [ref, series] : series_) fn(*series);
}

}  // namespace kura::storage
