#include "storage/node_service.h"

#include <grpcpp/grpcpp.h>
#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "proto/health.grpc.pb.h"
#include "proto/storage.grpc.pb.h"
#include "storage/grpc_status.h"
#include "storage/storage_wire.h"

namespace kura::storage {
namespace {

// ":9301" means every interface, as for the HTTP server.
std::string GrpcAddress(const std::string& listen_address) {
  if (absl::StartsWith(listen_address, ":")) return absl::StrCat("0.0.0.0", listen_address);
  return listen_address;
}

class StorageServiceImpl final : public v1::Storage::Service {
 public:
  StorageServiceImpl(Node* node, const NodeServiceOptions& options, base::Registry* metrics)
      : node_(node), options_(options) {
    if (metrics != nullptr) {
      write_latency_ =
          &metrics->AddHistogram("kura_store_grpc_write_duration_seconds",
                                 "Time to serve a Write call.", base::DefaultLatencyBuckets());
      select_latency_ =
          &metrics->AddHistogram("kura_store_grpc_select_duration_seconds",
                                 "Time to serve a Select stream.", base::DefaultLatencyBuckets());
    }
  }

  grpc::Status Write(grpc::ServerContext* context, const v1::WriteRequest* request,
                     v1::WriteResponse* response) override {
    const absl::Time start = absl::Now();
    absl::StatusOr<model::WriteBatch> batch = DecodeWriteRequest(*request);
    absl::Status status = batch.ok() ? node_->Write(*batch) : batch.status();
    if (write_latency_ != nullptr)
      write_latency_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
    return ToGrpcStatus(status);
  }

  grpc::Status Select(grpc::ServerContext* context, const v1::SelectRequest* request,
                      grpc::ServerWriter<v1::SelectResponse>* writer) override {
    const absl::Time start = absl::Now();
    absl::Status status = Stream(context, *request, writer);
    if (select_latency_ != nullptr) {
      select_latency_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
    }
    return ToGrpcStatus(status);
  }

  grpc::Status LabelNames(grpc::ServerContext* context, const v1::LabelNamesRequest* request,
                          v1::StringsResponse* response) override {
    absl::StatusOr<std::vector<model::LabelMatcher>> matchers = DecodeMatchers(request->matchers());
    if (!matchers.ok()) return ToGrpcStatus(matchers.status());
    absl::StatusOr<std::vector<std::string>> names =
        node_->LabelNames(*matchers, request->min_time_ms(), request->max_time_ms());
    if (!names.ok()) return ToGrpcStatus(names.status());
    for (std::string& name : *names) response->add_values(std::move(name));
    return grpc::Status::OK;
  }

  grpc::Status LabelValues(grpc::ServerContext* context, const v1::LabelValuesRequest* request,
                           v1::StringsResponse* response) override {
    absl::StatusOr<std::vector<model::LabelMatcher>> matchers = DecodeMatchers(request->matchers());
    if (!matchers.ok()) return ToGrpcStatus(matchers.status());
    absl::StatusOr<std::vector<std::string>> values = node_->LabelValues(
        request->name(), *matchers, request->min_time_ms(), request->max_time_ms());
    if (!values.ok()) return ToGrpcStatus(values.status());
    for (std::string& value : *values) response->add_values(std::move(value));
    return grpc::Status::OK;
  }

  grpc::Status Metadata(grpc::ServerContext* context, const v1::MetadataRequest* request,
                        v1::MetadataResponse* response) override {
    absl::StatusOr<std::vector<model::MetricMetadata>> entries =
        node_->Metadata(request->metric());
    if (!entries.ok()) return ToGrpcStatus(entries.status());
    for (const model::MetricMetadata& entry : *entries) {
      EncodeMetadata(entry, response->add_metadata());
    }
    return grpc::Status::OK;
  }

  grpc::Status Status(grpc::ServerContext* context, const v1::StatusRequest* request,
                      v1::StatusResponse* response) override {
    const NodeStats stats = node_->stats();
    response->set_active_series(stats.active_series);
    response->set_samples_appended(stats.samples_appended);
    response->set_series_created(stats.series_created);
    response->set_chunks_written(stats.chunks_written);
    if (absl::Status health = node_->WriteHealth(); !health.ok()) {
      response->set_write_health(health.ToString());
    }
    return grpc::Status::OK;
  }

 private:
  // Streams the selected series, cutting a message whenever it holds about
  // max_select_message_bytes; a series that does not fit continues in the next message.
  absl::Status Stream(grpc::ServerContext* context, const v1::SelectRequest& request,
                      grpc::ServerWriter<v1::SelectResponse>* writer) {
    ASSIGN_OR_RETURN(std::vector<model::LabelMatcher> matchers, DecodeMatchers(request.matchers()));
    ASSIGN_OR_RETURN(std::unique_ptr<model::SeriesSet> set,
                     node_->Select(matchers, request.min_time_ms(), request.max_time_ms()));
    v1::SelectResponse response;
    size_t bytes = 0;
    auto flush = [&]() -> absl::Status {
      if (response.series_size() == 0) return absl::OkStatus();
      if (!writer->Write(response)) return absl::CancelledError("select stream closed by client");
      response.Clear();
      bytes = 0;
      return absl::OkStatus();
    };
    std::vector<std::string> chunks;
    while (set->Next()) {
      if (context->IsCancelled()) return absl::CancelledError("select cancelled");
      const model::Series& series = set->At();
      chunks.clear();
      std::unique_ptr<model::SampleIterator> it = series.NewIterator();
      RETURN_IF_ERROR(EncodeChunks(it.get(), options_.max_samples_per_chunk, &chunks));
      const std::string labels = series.labels().CanonicalBytes();
      v1::SelectedSeries* out = response.add_series();
      out->set_labels(labels);
      bytes += labels.size();
      for (std::string& chunk : chunks) {
        if (bytes >= options_.max_select_message_bytes) {
          RETURN_IF_ERROR(flush());
          out = response.add_series();
          out->set_labels(labels);
          bytes += labels.size();
        }
        bytes += chunk.size();
        out->add_chunks(std::move(chunk));
      }
      if (bytes >= options_.max_select_message_bytes) RETURN_IF_ERROR(flush());
    }
    RETURN_IF_ERROR(set->status());
    return flush();
  }

  Node* node_;
  const NodeServiceOptions options_;
  base::Histogram* write_latency_ = nullptr;
  base::Histogram* select_latency_ = nullptr;
};

// grpc.health.v1: SERVING unless draining or while the node's writes fail (a full or broken
// disk), so that receivers take such a node out of rotation as /-/ready does for load balancers.
class HealthServiceImpl final : public grpc::health::v1::Health::Service {
 public:
  explicit HealthServiceImpl(Node* node) : node_(node) {}

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override {
    const bool serving = serving_.load() && node_->WriteHealth().ok();
    response->set_status(serving ? grpc::health::v1::HealthCheckResponse::SERVING
                                 : grpc::health::v1::HealthCheckResponse::NOT_SERVING);
    return grpc::Status::OK;
  }

  void SetServing(bool serving) { serving_.store(serving); }

 private:
  Node* node_;
  std::atomic<bool> serving_{false};
};

}  // namespace

class NodeService::Rep {
 public:
  Rep(Node* node, NodeServiceOptions options, base::Registry* metrics)
      : options_(std::move(options)), service_(node, options_, metrics), health_(node) {}

  absl::Status Start() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(GrpcAddress(options_.listen_address),
                             grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    builder.RegisterService(&health_);
    builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
    // Clients ping every second to notice a hung node; accept that instead of answering
    // GOAWAY "too_many_pings".
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 500);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen for gRPC on ", options_.listen_address));
    }
    SetServing(true);
    base::LogInfo("listening", {{"protocol", "grpc"}, {"port", std::to_string(port_)}});
    return absl::OkStatus();
  }

  int port() const { return port_; }

  void SetServing(bool serving) { health_.SetServing(serving); }

  void Shutdown(absl::Duration grace) {
    absl::MutexLock lock(&mu_);
    if (server_ == nullptr || shut_down_) return;
    shut_down_ = true;
    SetServing(false);
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }

 private:
  const NodeServiceOptions options_;
  StorageServiceImpl service_;
  HealthServiceImpl health_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

NodeService::NodeService(Node* node, NodeServiceOptions options, base::Registry* metrics)
    : rep_(std::make_unique<Rep>(node, std::move(options), metrics)) {}

NodeService::~NodeService() { Shutdown(absl::ZeroDuration()); }

absl::Status NodeService::Start() { return rep_->Start(); }
int NodeService::port() const { return rep_->port(); }
void NodeService::SetServing(bool serving) { rep_->SetServing(serving); }
void NodeService::Shutdown(absl::Duration grace) { rep_->Shutdown(grace); }

}  // namespace kura::storage
