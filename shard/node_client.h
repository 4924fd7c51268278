#pragma once

// NodeClient: one storage node's Storage service over gRPC (proto/storage.proto), with a
// deadline on every call and HTTP/2 keepalive pings, so a node that stops answering fails its
// calls instead of holding them. gRPC stays inside node_client.cc.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "model/matcher.h"
#include "model/write_batch.h"
#include "shard/select_stream.h"

namespace kura::shard {

// One series of a write, with its canonical label bytes (Labels::CanonicalBytes()), which the
// router computes once for placement and every replica's request.
struct SeriesToWrite {
  const model::TimeSeries* series = nullptr;
  const std::string* canonical_labels = nullptr;
};

struct NodeClientOptions {
  // Deadline of a Write or label call.
  absl::Duration timeout = absl::Seconds(5);
  // Deadline of a whole Select stream. The fan-out reads a stream at the pace of the query
  // consuming it, so this is the query's timeout (--query.timeout); a node that stops answering
  // is caught sooner by the keepalive pings and by ejection.
  absl::Duration select_timeout = absl::Minutes(2);
  // Deadline of a grpc.health.v1 probe.
  absl::Duration probe_timeout = absl::Milliseconds(500);
  // A ping every second, and a connection whose ping goes unanswered for a second is closed:
  // a hung node's calls fail within about 2 s even without a probe.
  absl::Duration keepalive_time = absl::Seconds(1);
  absl::Duration keepalive_timeout = absl::Seconds(1);
  // Reconnect quickly to a restarted node (gRPC's default starts at 1 s and grows to 120 s).
  absl::Duration max_reconnect_backoff = absl::Seconds(1);
  int max_receive_message_bytes = 64 << 20;
};

// Thread-safe.
class NodeClient {
 public:
  // Connects lazily to `address` ("host:port").
  NodeClient(std::string address, NodeClientOptions options = {});
  ~NodeClient();

  NodeClient(const NodeClient&) = delete;
  NodeClient& operator=(const NodeClient&) = delete;

  const std::string& address() const { return address_; }

  // OK once the node made every sample durable. The node's own errors come back with their
  // codes (InvalidArgument for a bad sample); transport failures are Unavailable or
  // DeadlineExceeded.
  absl::Status Write(absl::Span<const SeriesToWrite> series,
                     absl::Span<const model::MetricMetadata* const> metadata = {});

  // The node's answer as gRPC delivers it, sorted by labels. Errors (transport failures, the
  // node's own) come at the stream's end. The stream must not outlive the client.
  std::unique_ptr<SelectStream> OpenSelect(absl::Span<const model::LabelMatcher> matchers,
                                           int64_t min_time_ms, int64_t max_time_ms);
  absl::StatusOr<std::vector<std::string>> LabelNames(
      absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms, int64_t max_time_ms);
  absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
      int64_t max_time_ms);
  // The node's metric family metadata (SeriesReader::Metadata), sorted by family.
  absl::StatusOr<std::vector<model::MetricMetadata>> Metadata(std::string_view metric);

  // grpc.health.v1 Check: OK when the node answers SERVING within the probe timeout.
  absl::Status Check();

  // Cancels every call in flight; they return Cancelled. For a node just taken out of rotation,
  // so its callers move on at once.
  void CancelInFlight();

 private:
  class Rep;
  const std::string address_;
  std::unique_ptr<Rep> rep_;
};

}  // namespace kura::shard
