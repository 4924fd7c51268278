#pragma once

// Head: the in-memory part of a node. Each active series has one open chunk; a chunk closes
// when it holds max_samples_per_chunk samples or when a sample falls into a later partition,
// and waits in pending() until the node has written it to the chunks column family.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "model/canonical_labels.h"
#include "model/labels.h"
#include "model/sample.h"
#include "storage/chunk_encoder.h"

namespace kura::storage {

// A sample older than its series' open chunk, waiting in the head, with its start timestamp.
struct OutOfOrderSample {
  model::Sample sample;
  int64_t start_ms = 0;  // 0: unknown
};

struct HeadSeries {
  uint64_t ref = 0;
  // The labels the series was created with, shared with the by-labels index: queries read an
  // active series' labels here instead of from the series column family.
  model::CanonicalLabels labels;
  ChunkEncoder chunk;  // the open chunk; may be empty
  int64_t chunk_partition = 0;
  // The newest sample of the series anywhere (head or written chunks), if known.
  std::optional<model::Sample> newest;
  // Postings of this series exist for every partition up to this one.
  int64_t indexed_partition = INT64_MIN;
  // Out-of-order samples older than the open chunk, not yet merged into the written chunks;
  // ascending, unique timestamps. Their starts are held with each: they are few (at most
  // kOutOfOrderFlushSamples in the head), series are many.
  std::vector<OutOfOrderSample> out_of_order;
};

// A series' canonical labels with their hash (model::Labels::Hash), computed once per request
// series, so that no map lookup on the write path hashes the bytes again.
struct CanonicalLabelsView {
  std::string_view bytes;
  uint64_t hash = 0;
};
// Hash and equality for maps keyed by the view.
struct CanonicalLabelsHash {
  using is_transparent = void;
  template <typename K>
  size_t operator()(const K& key) const {
    return static_cast<size_t>(key.hash);
  }
};
struct CanonicalLabelsEq {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return a.hash == b.hash && std::string_view(a.bytes) == std::string_view(b.bytes);
  }
};

// A closed chunk not yet written to disk.
struct ClosedChunk {
  uint64_t ref = 0;
  int64_t partition = 0;
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
  std::string bytes;
};

// Thread-compatible: the node guards it with its mutex.
class Head {
 public:
  Head(int max_samples_per_chunk, int64_t partition_length_ms)
      : max_samples_per_chunk_(max_samples_per_chunk), partition_length_ms_(partition_length_ms) {}

  HeadSeries* Find(uint64_t ref);
  const HeadSeries* Find(uint64_t ref) const;
  // An active series by its canonical labels, or null.
  HeadSeries* FindByLabels(std::string_view canonical_labels);
  // The same with the labels' hash at hand.
  HeadSeries* FindByLabels(CanonicalLabelsView canonical_labels);
  // REQUIRES: neither the ref nor the labels are in the head.
  HeadSeries* Create(uint64_t ref, std::string_view canonical_labels);
  HeadSeries* Create(uint64_t ref, model::CanonicalLabels canonical_labels);

  // REQUIRES: sample.timestamp_ms > the series' newest timestamp. A nonzero `start_ms` (the
  // sample's start timestamp) closes an open chunk that stores none (version 1) first; the
  // chunk after one that stores starts stores them too, so a series whose starts are only
  // sometimes unknown is not cut into short chunks.
  void Append(HeadSeries* series, const model::Sample& sample, int64_t start_ms = 0);
  // Adds a sample older than the series' newest, accepted within the out-of-order window: into
  // the open chunk (re-encoded) when it lies in the open chunk's range, else into
  // series->out_of_order. A timestamp the head already holds is left as it is.
  void InsertOutOfOrder(HeadSeries* series, const model::Sample& sample, int64_t start_ms = 0);
  // The series holding out-of-order samples, and their total.
  std::vector<HeadSeries*> SeriesWithOutOfOrder();
  int64_t num_out_of_order() const { return num_out_of_order_; }
  // After they were merged into the written chunks.
  void ClearOutOfOrder(HeadSeries* series);

  // Loads the open chunk saved by a checkpoint into an empty series. False if it is corrupt.
  bool RestoreOpenChunk(HeadSeries* series, std::string_view chunk);

  // The value at `timestamp_ms` if the head holds it. nullopt with *older = true when the
  // timestamp lies before everything the head holds for the series (ask the written chunks).
  std::optional<double> FindSample(const HeadSeries& series, int64_t timestamp_ms,
                                   bool* older) const;

  // Encoded chunks (pending, then open, then the out-of-order samples as one) of `ref` overlapping
  // [min_time_ms, max_time_ms], for a reader that will merge them with the written chunks.
  void CopyChunks(uint64_t ref, int64_t min_time_ms, int64_t max_time_ms,
                  std::vector<std::string>* out) const;

  const std::vector<ClosedChunk>& pending() const { return pending_; }
  void ClearPending() {
    pending_.clear();
    pending_bytes_ = 0;
  }
  // Closes every open chunk into pending(), to free memory under pressure.
  void CloseAllChunks();
  // Closes the open chunks holding samples of partitions before `partition` into pending():
  // before a closed partition is compacted, so none of its chunks arrives after.
  void CloseChunksBefore(int64_t partition);

  // Closes the open chunks of series whose newest sample lies before `partition` and drops the
  // series from the head, so that memory follows the active series; series with out-of-order
  // samples stay. Returns how many went.
  size_t EvictIdle(int64_t partition);

  void ForEach(absl::FunctionRef<void(const HeadSeries&)> fn) const;
  size_t num_series() const { return series_.size(); }
  // An estimate of what the head holds: series, open and pending chunks, out-of-order samples.
  // It counts what the allocations hold (buffer capacities, map slots, allocator rounding).
  int64_t memory_bytes() const;
  // The part of memory_bytes() that writing chunks out frees.
  int64_t chunk_memory_bytes() const;

 private:
  // The by-labels index's key: the labels a series was created with, shared with them (a
  // reference count, not a copy), next to the series in the slot so that a lookup reads the
  // bytes before the series.
  struct SeriesByLabelsHash {
    using is_transparent = void;
    size_t operator()(const model::CanonicalLabels& k) const {
      return static_cast<size_t>(k.hash());
    }
    size_t operator()(const CanonicalLabelsView& k) const { return static_cast<size_t>(k.hash); }
  };
  struct SeriesByLabelsEq {
    using is_transparent = void;
    static CanonicalLabelsView View(const model::CanonicalLabels& k) {
      return {k.bytes(), k.hash()};
    }
    static CanonicalLabelsView View(const CanonicalLabelsView& k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      const CanonicalLabelsView x = View(a);
      const CanonicalLabelsView y = View(b);
      return x.hash == y.hash && x.bytes == y.bytes;
    }
  };

  void CloseChunk(HeadSeries* series);
  // What memory_bytes() counts for a series besides its open chunk, and for the open chunk.
  static int64_t SeriesMemory(const model::CanonicalLabels& labels);
  static int64_t ChunkMemory(const ChunkEncoder& chunk);

  const int max_samples_per_chunk_;
  const int64_t partition_length_ms_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<HeadSeries>> series_;
  // The same series by canonical labels: one lookup per written series.
  absl::flat_hash_map<model::CanonicalLabels, HeadSeries*, SeriesByLabelsHash, SeriesByLabelsEq>
      series_by_labels_;
  std::vector<ClosedChunk> pending_;
  int64_t num_out_of_order_ = 0;
  int64_t series_bytes_ = 0;
  int64_t chunk_bytes_ = 0;  // of the open chunks
  int64_t pending_bytes_ = 0;
};

}  // namespace kura::storage
