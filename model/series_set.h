#pragma once

// The one iterator shape: pull with Next(), read with At(), error at the end with status().

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/labels.h"
#include "model/sample.h"

namespace kura::model {

// Samples of one series in ascending timestamp order, without duplicates.
class SampleIterator {
 public:
  virtual ~SampleIterator() = default;
  // Advances to the next sample; false at the end or on error (see status()).
  virtual bool Next() = 0;
  // REQUIRES: the last Next() returned true.
  virtual Sample At() const = 0;
  virtual absl::Status status() const = 0;

  // Appends every sample Next() would still yield to `out` and returns status(). The way to
  // read a whole series: decoders override it with a loop free of virtual calls per sample.
  virtual absl::Status AppendRemaining(std::vector<Sample>* out) {
    while (Next()) out->push_back(At());
    return status();
  }

  // The start timestamp of the sample at At(): when the counter it belongs to began counting
  // (a delta sample's interval starts there; a cumulative counter restarted then), as
  // OpenTelemetry and remote write 2.0 carry it. 0 means unknown. REQUIRES: as At().
  virtual int64_t StartAt() const { return 0; }

  // As AppendRemaining, and the samples' start timestamps into `starts`, which runs parallel
  // to `out` but may stop short of it: entries past its end are 0 (unknown), so series without
  // start timestamps, nearly all, leave it empty. REQUIRES: starts->size() <= out->size().
  virtual absl::Status AppendRemainingWithStarts(std::vector<Sample>* out,
                                                 std::vector<int64_t>* starts) {
    while (Next()) {
      out->push_back(At());
      if (const int64_t start = StartAt(); start != 0) {
        starts->resize(out->size() - 1, 0);
        starts->push_back(start);
      }
    }
    return status();
  }
};

// One selected series. Its samples are read lazily, so listing series costs no chunk reads.
class Series {
 public:
  virtual ~Series() = default;
  virtual const Labels& labels() const = 0;
  // A new iterator over the samples inside the time range the series was selected for. It
  // owns or shares what it reads: it stays valid after its SeriesSet moves on or goes away,
  // and it may be used on another thread than the set's (by one thread at a time), so that
  // readers can decode several series at once.
  virtual std::unique_ptr<SampleIterator> NewIterator() const = 0;
};

// Series ordered by Labels::Compare, each label set at most once.
class SeriesSet {
 public:
  virtual ~SeriesSet() = default;
  virtual bool Next() = 0;
  // REQUIRES: the last Next() returned true. Valid until the next call to Next().
  virtual const Series& At() const = 0;
  virtual absl::Status status() const = 0;
  // Warnings about the result that do not fail it, e.g. that a storage node did not answer
  // (a partial response). Complete once Next() returned false: a storage node may fail
  // mid-stream.
  virtual std::vector<std::string> warnings() const { return {}; }
};

}  // namespace kura::model
