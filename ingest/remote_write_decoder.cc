#include "ingest/remote_write_decoder.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/container/inlined_vector.h"
#include "base/status_macros.h"
#include "ingest/validation.h"
#include "snappy.h"

namespace kura::ingest {
namespace {

constexpr absl::string_view kProtobufMediaType = "application/x-protobuf";
constexpr absl::string_view kWriteV1Message = "prometheus.WriteRequest";
constexpr absl::string_view kWriteV2Message = "io.prometheus.write.v2.Request";

absl::Status CorruptProtobuf() {
  return absl::InvalidArgumentError("corrupt protobuf: body is not a prometheus.WriteRequest");
}

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

// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).
enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Reads protobuf wire format from one buffer without copying: just what a WriteRequest needs.
// Parsing by hand instead of through the generated message saves allocating every label
// string twice (once in the message, once in the batch), which was a third of ingest CPU.
// It follows the generated parser's rules: unknown fields are skipped, a field sent with
// another wire type than its declared one counts as unknown, and the last value of a scalar
// field wins.
class WireReader {
 public:
  explicit WireReader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool done() const { return p_ == end_; }
  const char* pos() const { return p_; }

  bool ReadVarint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64 && p_ != end_; shift += 7) {
      const auto byte = static_cast<uint8_t>(*p_++);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) {
        *v = result;
        return true;
      }
    }
    return false;  // truncated, or longer than 10 bytes
  }

  // A field tag; field number 0 and groups (wire types 3 and 4) are malformed here.
  bool ReadTag(uint64_t* field, int* wire_type) {
    uint64_t tag;
    if (!ReadVarint(&tag)) return false;
    *field = tag >> 3;
    *wire_type = static_cast<int>(tag & 7);
    return *field != 0 && *field <= 0x1fffffff && *wire_type != 3 && *wire_type != 4 &&
           *wire_type <= 5;
  }

  bool ReadLengthDelimited(std::string_view* out) {
    uint64_t n;
    if (!ReadVarint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *out = std::string_view(p_, n);
    p_ += n;
    return true;
  }

  bool ReadFixed64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(v, p_, 8);  // little-endian on every platform Kura builds for
    p_ += 8;
    return true;
  }

  bool Skip(int wire_type) {
    uint64_t ignored;
    std::string_view bytes;
    switch (wire_type) {
      case kVarint:
        return ReadVarint(&ignored);
      case kFixed64:
        return ReadFixed64(&ignored);
      case kLengthDelimited:
        return ReadLengthDelimited(&bytes);
      case kFixed32:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      default:
        return false;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

// Whether `data` is a well-formed message whose field `embedded_field` (if any) holds
// well-formed messages too: what the generated parser requires of the exemplars and metadata
// the decoder drops, so both refuse the same bodies.
bool IsWellFormed(std::string_view data, uint64_t embedded_field = 0) {
  WireReader r(data);
  while (!r.done()) {
    uint64_t field;
    int wire_type;
    std::string_view message;
    if (!r.ReadTag(&field, &wire_type)) return false;
    if (wire_type != kLengthDelimited) {
      if (!r.Skip(wire_type)) return false;
    } else if (!r.ReadLengthDelimited(&message) ||
               (field == embedded_field && !IsWellFormed(message))) {
      return false;
    }
  }
  return true;
}

// prometheus.Label: name = 1, value = 2 (bytes).
bool ParseLabel(std::string_view data, std::vector<model::Label>* labels) {
  WireReader r(data);
  std::string_view name;
  std::string_view value;
  while (!r.done()) {
    uint64_t field;
    int wire_type;
    if (!r.ReadTag(&field, &wire_type)) return false;
    if ((field == 1 || field == 2) && wire_type == kLengthDelimited) {
      if (!r.ReadLengthDelimited(field == 1 ? &name : &value)) return false;
    } else if (!r.Skip(wire_type)) {
      return false;
    }
  }
  labels->push_back({std::string(name), std::string(value)});
  return true;
}

// prometheus.Sample: value = 1 (double), timestamp = 2 (int64).
bool ParseSample(std::string_view data, std::vector<model::Sample>* samples) {
  WireReader r(data);
  uint64_t value_bits = 0;
  uint64_t timestamp = 0;
  while (!r.done()) {
    uint64_t field;
    int wire_type;
    if (!r.ReadTag(&field, &wire_type)) return false;
    bool ok;
    if (field == 1 && wire_type == kFixed64) {
      ok = r.ReadFixed64(&value_bits);
    } else if (field == 2 && wire_type == kVarint) {
      ok = r.ReadVarint(&timestamp);
    } else {
      ok = r.Skip(wire_type);
    }
    if (!ok) return false;
  }
  samples->push_back({static_cast<int64_t>(timestamp), std::bit_cast<double>(value_bits)});
  return true;
}

// prometheus.TimeSeries: labels = 1, samples = 2, exemplars = 3, histograms = 4.
//
// With a cache, the label fields are looked up by their bytes when they are contiguous (as every
// sender writes them: all labels, then the samples); a hit or labels that pass validation set
// *labels_valid. Interleaved label fields still decode, uncached.
absl::Status ParseTimeSeries(std::string_view data, LabelsCache* cache, model::TimeSeries* series,
                             bool* labels_valid) {
  WireReader r(data);
  // The label messages, parsed after the loop unless the cache knows them.
  absl::InlinedVector<std::string_view, 16> label_messages;
  const char* labels_begin = nullptr;
  const char* labels_end = nullptr;
  bool labels_contiguous = true;
  bool has_histograms = false;
  while (!r.done()) {
    uint64_t field;
    int wire_type;
    std::string_view message;
    const char* field_begin = r.pos();
    if (!r.ReadTag(&field, &wire_type)) return CorruptProtobuf();
    if (field >= 1 && field <= 4 && wire_type == kLengthDelimited) {
      if (!r.ReadLengthDelimited(&message)) return CorruptProtobuf();
      if (field == 1) {
        if (labels_begin == nullptr) {
          labels_begin = field_begin;
        } else if (field_begin != labels_end) {
          labels_contiguous = false;
        }
        labels_end = r.pos();
        label_messages.push_back(message);
      }
      if (field == 2 && !ParseSample(message, &series->samples)) return CorruptProtobuf();
      // Exemplars are dropped; their labels are field 1.
      if (field == 3 && !IsWellFormed(message, 1)) return CorruptProtobuf();
      if (field == 4) has_histograms = true;
    } else if (!r.Skip(wire_type)) {
      return CorruptProtobuf();
    }
  }
  *labels_valid = false;
  const bool cacheable = cache != nullptr && labels_begin != nullptr && labels_contiguous;
  const std::string_view wire =
      cacheable ? std::string_view(labels_begin, labels_end - labels_begin) : std::string_view();
  std::optional<model::Labels> cached;
  if (cacheable) cached = cache->Find(wire);
  if (cached.has_value()) {
    series->labels = *std::move(cached);
    *labels_valid = true;
  } else {
    std::vector<model::Label> labels;
    labels.reserve(label_messages.size());
    for (std::string_view message : label_messages) {
      if (!ParseLabel(message, &labels)) return CorruptProtobuf();
    }
    // As sent, sorted or not: validation rejects unsorted names with a message.
    series->labels = model::Labels::FromSorted(std::move(labels));
    // Invalid labels are not cached: validation reports them, after the whole body decoded.
    if (cacheable && ValidateLabels(series->labels).ok()) {
      cache->Insert(wire, series->labels);
      *labels_valid = true;
    }
  }
  if (has_histograms) {
    return absl::InvalidArgumentError(absl::StrCat("series ", DescribeSeries(series->labels),
                                                   ": native histograms are not supported yet"));
  }
  return absl::OkStatus();
}

// Prometheus's words for prometheus.MetricMetadata.MetricType, by number.
constexpr std::string_view kMetricTypes[] = {"unknown", "counter", "gauge",    "histogram",
                                             "gaugehistogram", "summary", "info", "stateset"};

// prometheus.MetricMetadata: type = 1, metric_family_name = 2, help = 4, unit = 5. A type this
// decoder does not know (a newer sender's) is "unknown", as Prometheus shows it.
bool ParseMetadata(std::string_view data, model::MetricMetadata* out) {
  WireReader r(data);
  uint64_t type = 0;
  while (!r.done()) {
    uint64_t field;
    int wire_type;
    std::string_view bytes;
    if (!r.ReadTag(&field, &wire_type)) return false;
    if (field == 1 && wire_type == kVarint) {
      if (!r.ReadVarint(&type)) return false;
    } else if ((field == 2 || field == 4 || field == 5) && wire_type == kLengthDelimited) {
      if (!r.ReadLengthDelimited(&bytes)) return false;
      std::string& to = field == 2 ? out->family : field == 4 ? out->help : out->unit;
      to.assign(bytes);
    } else if (!r.Skip(wire_type)) {
      return false;
    }
  }
  out->type = std::string(type < std::size(kMetricTypes) ? kMetricTypes[type] : "unknown");
  return true;
}

// prometheus.WriteRequest: timeseries = 1, metadata = 3.
absl::Status ParseWriteRequest(std::string_view data, LabelsCache* cache, DecodedWrite* out) {
  WireReader r(data);
  model::TimeSeries series;
  while (!r.done()) {
    uint64_t field;
    int wire_type;
    std::string_view message;
    if (!r.ReadTag(&field, &wire_type)) return CorruptProtobuf();
    if (field == 1 && wire_type == kLengthDelimited) {
      if (!r.ReadLengthDelimited(&message)) return CorruptProtobuf();
      bool labels_valid = false;
      RETURN_IF_ERROR(ParseTimeSeries(message, cache, &series, &labels_valid));
      if (!series.samples.empty()) {
        out->batch.series.push_back(std::move(series));
        out->labels_valid.push_back(labels_valid);
      }
      series = model::TimeSeries();
    } else if (field == 3 && wire_type == kLengthDelimited) {
      model::MetricMetadata metadata;
      if (!r.ReadLengthDelimited(&message) || !ParseMetadata(message, &metadata)) {
        return CorruptProtobuf();
      }
      out->batch.metadata.push_back(std::move(metadata));
    } else if (!r.Skip(wire_type)) {
      return CorruptProtobuf();
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
  DecodedWrite decoded;
  RETURN_IF_ERROR(
      DecodeRemoteWrite(content_encoding, body, max_decoded_bytes, /*cache=*/nullptr, &decoded));
  return std::move(decoded.batch);
}

absl::Status DecodeRemoteWrite(std::string_view content_encoding, std::string_view body,
                               size_t max_decoded_bytes, LabelsCache* cache, DecodedWrite* out) {
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

  return ParseWriteRequest(decoded, cache, out);
}

}  // namespace kura::ingest
