#pragma once

// The write-ahead log: one record per accepted write, holding each series' ref and samples.
// Format in docs/format/wal.md.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/sample.h"

namespace kura::storage {

// Nearly every series of a remote-write request carries one sample: inline, not allocated.
using WalSamples = absl::InlinedVector<model::Sample, 1>;

// The samples one record holds for one series.
struct WalSeriesSamples {
  uint64_t ref = 0;
  WalSamples samples;
  // Empty, or the samples' start timestamps, one each (model::TimeSeries::start_timestamps_ms).
  std::vector<int64_t> starts;
};

// Appends the encoded record to `dst`: `series` hold samples newer than their series' newest,
// `out_of_order` older ones accepted within the out-of-order window. The record has version 1
// without out-of-order samples, else version 2, and version 3 when any series carries start
// timestamps (docs/format/wal.md).
void EncodeWalRecord(absl::Span<const WalSeriesSamples> series, std::string* dst,
                     absl::Span<const WalSeriesSamples> out_of_order = {});
// False on malformed input. `out_of_order` may be null only for version-1 records. Entries of
// records without start timestamps get empty `starts`.
bool DecodeWalRecord(std::string_view in, std::vector<WalSeriesSamples>* out,
                     std::vector<WalSeriesSamples>* out_of_order = nullptr);

// The log itself: append-only segment files `<dir>/<index>` (index as 16 hex digits), each a
// sequence of records framed as [uint32 length][uint32 CRC-32 of the payload][payload], both
// integers little-endian. A record is durable against a crash of the process once Append
// returns (it is in the kernel), and against power loss too with `sync`.
//
// Only the storage node's head needs the log, and only until a checkpoint holds what it
// covers: the node rotates to a new segment, writes the checkpoint, then deletes the older
// segments. Keeping the log out of RocksDB means RocksDB never copies it into memtables,
// flushes or compactions, and never replays it on open.
//
// Thread-compatible: the node serializes writers.
class Wal {
 public:
  struct Options {
    bool sync = false;  // fdatasync every append
  };

  // Opens (creating) the log in `dir` for replay and appends; appends go to a new segment.
  static absl::StatusOr<std::unique_ptr<Wal>> Open(const std::string& dir, Options options);
  ~Wal();

  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Calls `fn` for every record of the segments that existed at Open, oldest first; stops at
  // fn's first error. A record cut short at the end of the newest of them (a crash in the
  // middle of an append) ends the replay and is cut off the file; a bad record anywhere else is
  // DataLoss.
  absl::Status Replay(absl::FunctionRef<absl::Status(std::string_view record)> fn);

  // Appends one record. After a failed append the log refuses further appends.
  absl::Status Append(std::string_view record);

  // Starts a new segment and returns its index: every record appended from now on lives in it
  // or a later one.
  absl::StatusOr<uint64_t> Rotate();

  // Deletes the segments before `first_kept`.
  absl::Status Truncate(uint64_t first_kept);

  // Bytes appended since the last Rotate; after Open, the bytes of the segments found there,
  // since they stay until the next rotation and truncation.
  int64_t bytes_since_rotate() const { return bytes_since_rotate_; }
  int num_segments() const { return static_cast<int>(segments_.size()); }

 private:
  Wal(std::string dir, Options options) : dir_(std::move(dir)), options_(options) {}
  std::string SegmentPath(uint64_t index) const;
  absl::Status OpenSegment(uint64_t index);

  const std::string dir_;
  const Options options_;
  std::vector<uint64_t> segments_;  // ascending; the last one is open for appends
  int fd_ = -1;
  int64_t offset_ = 0;  // end of the last whole record in the open segment
  int64_t bytes_since_rotate_ = 0;
  absl::Status broken_;  // set when an append could not be undone
};

}  // namespace kura::storage
