#include "shard/node_client.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "proto/health.grpc.pb.h"
#include "proto/storage.grpc.pb.h"
#include "storage/grpc_status.h"
#include "storage/storage_wire.h"

namespace kura::shard {
namespace {

int Ms(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

std::shared_ptr<grpc::Channel> NewChannel(const std::string& address,
                                          const NodeClientOptions& options) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, Ms(options.keepalive_time));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Ms(options.keepalive_timeout));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, Ms(options.max_reconnect_backoff));
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  args.SetMaxSendMessageSize(-1);
  // Each client has its own connection, so one node's channel never waits behind another's.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

class NodeClient::Rep {
 public:
  Rep(const std::string& address, NodeClientOptions options)
      : options_(options),
        channel_(NewChannel(address, options)),
        storage_(storage::v1::Storage::NewStub(channel_)),
        health_(grpc::health::v1::Health::NewStub(channel_)) {}

  // A context with a deadline, registered for CancelInFlight while the call runs.
  class Call {
   public:
    Call(Rep* rep, absl::Duration timeout) : rep_(rep) {
      context_.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
      absl::MutexLock lock(&rep_->mu_);
      rep_->in_flight_.insert(&context_);
    }
    ~Call() {
      absl::MutexLock lock(&rep_->mu_);
      rep_->in_flight_.erase(&context_);
    }
    grpc::ClientContext* context() { return &context_; }

   private:
    Rep* rep_;
    grpc::ClientContext context_;
  };

  class Stream;

  void CancelInFlight() {
    absl::MutexLock lock(&mu_);
    for (grpc::ClientContext* context : in_flight_) context->TryCancel();
  }

  const NodeClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<storage::v1::Storage::Stub> storage_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;

 private:
  absl::Mutex mu_;
  absl::flat_hash_set<grpc::ClientContext*> in_flight_ ABSL_GUARDED_BY(mu_);
};

NodeClient::NodeClient(std::string address, NodeClientOptions options)
    : address_(std::move(address)), rep_(std::make_unique<Rep>(address_, options)) {}

NodeClient::~NodeClient() = default;

absl::Status NodeClient::Write(absl::Span<const SeriesToWrite> series,
                               absl::Span<const model::MetricMetadata* const> metadata) {
  storage::v1::WriteRequest request;
  request.mutable_series()->Reserve(static_cast<int>(series.size()));
  for (const SeriesToWrite& s : series) {
    storage::EncodeWriteSeries(*s.series, *s.canonical_labels, &request);
  }
  for (const model::MetricMetadata* m : metadata) {
    storage::EncodeMetadata(*m, request.add_metadata());
  }
  storage::v1::WriteResponse response;
  Rep::Call call(rep_.get(), rep_->options_.timeout);
  return storage::FromGrpcStatus(rep_->storage_->Write(call.context(), request, &response));
}

// A Select call's stream: decodes one message at a time and hands its series out one by one.
class NodeClient::Rep::Stream : public SelectStream {
 public:
  Stream(Rep* rep, const std::string& address, const storage::v1::SelectRequest& request)
      : address_(address), call_(rep, rep->options_.select_timeout) {
    reader_ = rep->storage_->Select(call_.context(), request);
  }
  ~Stream() override {
    if (finished_) return;
    call_.context()->TryCancel();
    while (reader_->Read(&response_)) {
    }
    storage::FromGrpcStatus(reader_->Finish())
        .IgnoreError();  // cancelled by us: nobody waits for the answer
  }

  bool Next() override {
    if (finished_) return false;
    while (next_ == response_.series_size()) {
      if (!reader_->Read(&response_)) {
        finished_ = true;
        status_ = storage::FromGrpcStatus(reader_->Finish());
        return false;
      }
      next_ = 0;
    }
    storage::v1::SelectedSeries& in = *response_.mutable_series(next_++);
    if (!model::Labels::ParseCanonical(in.labels(), &current_.labels)) {
      status_ = absl::DataLossError(absl::StrCat("malformed series labels from ", address_));
      call_.context()->TryCancel();
      while (reader_->Read(&response_)) {
      }
      storage::FromGrpcStatus(reader_->Finish())
          .IgnoreError();  // the stream already failed with DataLoss
      finished_ = true;
      return false;
    }
    current_.chunks.clear();
    current_.chunks.reserve(static_cast<size_t>(in.chunks_size()));
    for (std::string& chunk : *in.mutable_chunks()) current_.chunks.push_back(std::move(chunk));
    return true;
  }
  EncodedSeries& At() override { return current_; }
  absl::Status status() const override { return status_; }
  void Cancel() override { call_.context()->TryCancel(); }

 private:
  const std::string& address_;
  Call call_;
  std::unique_ptr<grpc::ClientReader<storage::v1::SelectResponse>> reader_;
  storage::v1::SelectResponse response_;
  int next_ = 0;
  EncodedSeries current_;
  bool finished_ = false;
  absl::Status status_;
};

std::unique_ptr<SelectStream> NodeClient::OpenSelect(absl::Span<const model::LabelMatcher> matchers,
                                                     int64_t min_time_ms, int64_t max_time_ms) {
  storage::v1::SelectRequest request;
  for (const model::LabelMatcher& m : matchers) storage::EncodeMatcher(m, request.add_matchers());
  request.set_min_time_ms(min_time_ms);
  request.set_max_time_ms(max_time_ms);
  return std::make_unique<Rep::Stream>(rep_.get(), address_, request);
}

absl::StatusOr<std::vector<std::string>> NodeClient::LabelNames(
    absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms, int64_t max_time_ms) {
  storage::v1::LabelNamesRequest request;
  for (const model::LabelMatcher& m : matchers) storage::EncodeMatcher(m, request.add_matchers());
  request.set_min_time_ms(min_time_ms);
  request.set_max_time_ms(max_time_ms);
  storage::v1::StringsResponse response;
  Rep::Call call(rep_.get(), rep_->options_.timeout);
  absl::Status status =
      storage::FromGrpcStatus(rep_->storage_->LabelNames(call.context(), request, &response));
  if (!status.ok()) return status;
  return std::vector<std::string>(response.values().begin(), response.values().end());
}

absl::StatusOr<std::vector<std::string>> NodeClient::LabelValues(
    std::string_view name, absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
    int64_t max_time_ms) {
  storage::v1::LabelValuesRequest request;
  request.set_name(std::string(name));
  for (const model::LabelMatcher& m : matchers) storage::EncodeMatcher(m, request.add_matchers());
  request.set_min_time_ms(min_time_ms);
  request.set_max_time_ms(max_time_ms);
  storage::v1::StringsResponse response;
  Rep::Call call(rep_.get(), rep_->options_.timeout);
  absl::Status status =
      storage::FromGrpcStatus(rep_->storage_->LabelValues(call.context(), request, &response));
  if (!status.ok()) return status;
  return std::vector<std::string>(response.values().begin(), response.values().end());
}

absl::StatusOr<std::vector<model::MetricMetadata>> NodeClient::Metadata(std::string_view metric) {
  storage::v1::MetadataRequest request;
  request.set_metric(std::string(metric));
  storage::v1::MetadataResponse response;
  Rep::Call call(rep_.get(), rep_->options_.timeout);
  absl::Status status =
      storage::FromGrpcStatus(rep_->storage_->Metadata(call.context(), request, &response));
  if (!status.ok()) return status;
  std::vector<model::MetricMetadata> entries;
  entries.reserve(static_cast<size_t>(response.metadata_size()));
  for (const storage::v1::MetricMetadata& m : response.metadata()) {
    entries.push_back(storage::DecodeMetadata(m));
  }
  return entries;
}

absl::Status NodeClient::Check() {
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  Rep::Call call(rep_.get(), rep_->options_.probe_timeout);
  absl::Status status =
      storage::FromGrpcStatus(rep_->health_->Check(call.context(), request, &response));
  if (!status.ok()) return status;
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::UnavailableError(absl::StrCat("storage node ", address_, " is not serving"));
  }
  return absl::OkStatus();
}

void NodeClient::CancelInFlight() { rep_->CancelInFlight(); }

}  // namespace kura::shard
