#include "ingest/remote_write_decoder.h"

#include <algorithm>
#include <climits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "google/protobuf/arena.h"
#include "ingest/validation.h"
#include "proto/remote.pb.h"
#include "snappy.h"

namespace kura::ingest {
namespace {

constexpr absl::string_view kProtobufMediaType = "application/x-protobuf";
constexpr absl::string_view kWriteV1Message = "prometheus.WriteRequest";
constexpr absl::string_view kWriteV2Message = "io.prometheus.write.v2.Request";

// Above snappy's largest ratio (64 bytes from a 3-byte copy element), with margin.
constexpr size_t kMaxSnappyExpansion = 32;

// This Abseil's string_view is its own type, not std::string_view.
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The value of media-type parameter `name` (case-insensitive), unquoted; "" when absent.
absl::string_view MediaTypeParameter(absl::string_view content_type, absl::string_view name) {
  for (absl::string_view param : absl::StrSplit(content_type, ';')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(param, absl::MaxSplits('=', 1));
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(kv.first), name)) continue;
    absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return {};
}

// Moves the label strings out of `ts`, which is discarded afterwards: the parse already paid
// for one copy of each.
model::Labels TakeLabels(prometheus::TimeSeries* ts) {
  std::vector<model::Label> labels;
  labels.reserve(ts->labels_size());
  for (prometheus::Label& l : *ts->mutable_labels()) {
    labels.push_back({std::move(*l.mutable_name()), std::move(*l.mutable_value())});
  }
  // As sent, sorted or not: validation rejects unsorted names with a message.
  return model::Labels::FromSorted(std::move(labels));
}

absl::Status ConvertRequest(prometheus::WriteRequest* request, model::WriteBatch* batch) {
  batch->series.reserve(request->timeseries_size());
  for (prometheus::TimeSeries& ts : *request->mutable_timeseries()) {
    if (ts.histograms_size() > 0) {
      return absl::InvalidArgumentError(absl::StrCat("series ", DescribeSeries(TakeLabels(&ts)),
                                                     ": native histograms are not supported yet"));
    }
    if (ts.samples_size() == 0) continue;
    model::TimeSeries& series = batch->series.emplace_back();
    series.labels = TakeLabels(&ts);
    series.samples.reserve(ts.samples_size());
    for (const prometheus::Sample& s : ts.samples()) {
      series.samples.push_back({s.timestamp(), s.value()});
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckContentType(std::string_view header) {
  absl::string_view content_type = ToAbsl(header);
  absl::string_view media_type = absl::StripAsciiWhitespace(
      content_type.substr(0, std::min(content_type.find(';'), content_type.size())));
  if (media_type.empty()) return absl::OkStatus();
  if (!absl::EqualsIgnoreCase(media_type, kProtobufMediaType)) {
    return absl::UnimplementedError(absl::StrCat("unsupported Content-Type \"", content_type,
                                                 "\"; remote write 1.0 expects ",
                                                 kProtobufMediaType));
  }
  absl::string_view message = MediaTypeParameter(content_type, "proto");
  if (message.empty() || message == kWriteV1Message) return absl::OkStatus();
  if (message == kWriteV2Message) {
    return absl::UnimplementedError(absl::StrCat("remote write 2.0 (", kWriteV2Message,
                                                 ") is not supported; send remote write 1.0 (",
                                                 kWriteV1Message, ")"));
  }
  return absl::UnimplementedError(absl::StrCat("unsupported protobuf message \"", message,
                                               "\"; remote write 1.0 expects ", kWriteV1Message));
}

absl::StatusOr<model::WriteBatch> DecodeRemoteWrite(std::string_view content_encoding,
                                                    std::string_view body,
                                                    size_t max_decoded_bytes) {
  absl::string_view encoding = absl::StripAsciiWhitespace(ToAbsl(content_encoding));
  if (encoding.empty()) {
    return absl::InvalidArgumentError(
        "missing Content-Encoding: remote write bodies are snappy-compressed "
        "(Content-Encoding: snappy)");
  }
  if (!absl::EqualsIgnoreCase(encoding, "snappy")) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported Content-Encoding \"", encoding,
                     "\"; remote write bodies are snappy-compressed"));
  }
  // The length comes from the block's header, so an oversized body is refused before any
  // memory is allocated for it.
  size_t decoded_bytes = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &decoded_bytes)) {
    return absl::InvalidArgumentError("corrupt snappy body: cannot read the decoded length");
  }
  if (decoded_bytes > max_decoded_bytes || decoded_bytes > INT_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("decoded body of ", decoded_bytes, " bytes exceeds the limit of ",
                     std::min<size_t>(max_decoded_bytes, INT_MAX), " bytes"));
  }
  // A snappy copy element expands at most 64 bytes from 3, so a header claiming far more than
  // that is a lie; refusing it keeps a small body from reserving a large buffer.
  if (decoded_bytes / kMaxSnappyExpansion > body.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "corrupt snappy body: ", body.size(), " bytes cannot decode to ", decoded_bytes, " bytes"));
  }
  std::string decoded(decoded_bytes, '\0');
  if (!snappy::RawUncompress(body.data(), body.size(), decoded.data())) {
    return absl::InvalidArgumentError(
        "corrupt snappy body (remote write uses the snappy block format, not the framed one)");
  }

  // One arena per request: the parsed message is freed in one go.
  google::protobuf::Arena arena;
  auto* request = google::protobuf::Arena::CreateMessage<prometheus::WriteRequest>(&arena);
  if (!request->ParseFromArray(decoded.data(), static_cast<int>(decoded.size()))) {
    return absl::InvalidArgumentError("corrupt protobuf: body is not a prometheus.WriteRequest");
  }
  model::WriteBatch batch;
  RETURN_IF_ERROR(ConvertRequest(request, &batch));
  return batch;
}

}  // namespace kura::ingest
