#include "storage/storage_wire.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "storage/chunk_encoder.h"

namespace kura::storage {
namespace {

v1::LabelMatcher::Type ToProto(model::MatchType type) {
  switch (type) {
    case model::MatchType::kEqual:
      return v1::LabelMatcher::EQUAL;
    case model::MatchType::kNotEqual:
      return v1::LabelMatcher::NOT_EQUAL;
    case model::MatchType::kRegexMatch:
      return v1::LabelMatcher::REGEX_MATCH;
    case model::MatchType::kRegexNoMatch:
      return v1::LabelMatcher::REGEX_NO_MATCH;
  }
  return v1::LabelMatcher::EQUAL;
}

absl::StatusOr<model::MatchType> FromProto(v1::LabelMatcher::Type type) {
  switch (type) {
    case v1::LabelMatcher::EQUAL:
      return model::MatchType::kEqual;
    case v1::LabelMatcher::NOT_EQUAL:
      return model::MatchType::kNotEqual;
    case v1::LabelMatcher::REGEX_MATCH:
      return model::MatchType::kRegexMatch;
    case v1::LabelMatcher::REGEX_NO_MATCH:
      return model::MatchType::kRegexNoMatch;
    default:
      return absl::InvalidArgumentError(absl::StrCat("unknown matcher type ", type));
  }
}

}  // namespace

void EncodeWriteSeries(const model::TimeSeries& series, const std::string& canonical_labels,
                       v1::WriteRequest* request) {
  v1::WriteSeries* out = request->add_series();
  out->set_labels(canonical_labels);
  out->mutable_timestamp_deltas_ms()->Reserve(static_cast<int>(series.samples.size()));
  out->mutable_values()->Reserve(static_cast<int>(series.samples.size()));
  uint64_t prev = 0;
  for (const model::Sample& sample : series.samples) {
    // Unsigned arithmetic: the difference of two int64 timestamps may overflow int64.
    const uint64_t t = static_cast<uint64_t>(sample.timestamp_ms);
    out->add_timestamp_deltas_ms(static_cast<int64_t>(t - prev));
    out->add_values(sample.value);
    prev = t;
  }
  const std::vector<int64_t>& starts = series.start_timestamps_ms;
  if (starts.empty() ||
      std::all_of(starts.begin(), starts.end(), [](int64_t start) { return start == 0; })) {
    return;
  }
  out->mutable_start_deltas_ms()->Reserve(static_cast<int>(starts.size()));
  uint64_t prev_start = 0;
  for (const int64_t start : starts) {
    const auto s = static_cast<uint64_t>(start);
    out->add_start_deltas_ms(static_cast<int64_t>(s - prev_start));
    prev_start = s;
  }
}

void EncodeWriteRequest(const model::WriteBatch& batch, v1::WriteRequest* request) {
  request->mutable_series()->Reserve(static_cast<int>(batch.series.size()));
  for (const model::TimeSeries& series : batch.series) {
    EncodeWriteSeries(series, series.labels.CanonicalBytes(), request);
  }
  for (const model::MetricMetadata& metadata : batch.metadata) {
    EncodeMetadata(metadata, request->add_metadata());
  }
}

void EncodeMetadata(const model::MetricMetadata& metadata, v1::MetricMetadata* out) {
  out->set_family(metadata.family);
  out->set_type(metadata.type);
  out->set_help(metadata.help);
  out->set_unit(metadata.unit);
}

model::MetricMetadata DecodeMetadata(const v1::MetricMetadata& in) {
  return {.family = in.family(), .type = in.type(), .help = in.help(), .unit = in.unit()};
}

absl::StatusOr<model::WriteBatch> DecodeWriteRequest(const v1::WriteRequest& request) {
  model::WriteBatch batch;
  batch.series.resize(static_cast<size_t>(request.series_size()));
  for (int i = 0; i < request.series_size(); ++i) {
    const v1::WriteSeries& in = request.series(i);
    model::TimeSeries& out = batch.series[static_cast<size_t>(i)];
    if (!model::Labels::ParseCanonical(in.labels(), &out.labels)) {
      return absl::InvalidArgumentError("malformed series labels");
    }
    if (in.timestamp_deltas_ms_size() != in.values_size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("series ", out.labels.ToString(), " has ", in.timestamp_deltas_ms_size(),
                       " timestamps but ", in.values_size(), " values"));
    }
    out.samples.resize(static_cast<size_t>(in.values_size()));
    uint64_t t = 0;
    for (int j = 0; j < in.values_size(); ++j) {
      t += static_cast<uint64_t>(in.timestamp_deltas_ms(j));
      out.samples[static_cast<size_t>(j)] = {static_cast<int64_t>(t), in.values(j)};
    }
    if (in.start_deltas_ms_size() == 0) continue;
    if (in.start_deltas_ms_size() != in.values_size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("series ", out.labels.ToString(), " has ", in.values_size(), " samples but ",
                       in.start_deltas_ms_size(), " start timestamps"));
    }
    out.start_timestamps_ms.resize(static_cast<size_t>(in.start_deltas_ms_size()));
    uint64_t start = 0;
    for (int j = 0; j < in.start_deltas_ms_size(); ++j) {
      start += static_cast<uint64_t>(in.start_deltas_ms(j));
      out.start_timestamps_ms[static_cast<size_t>(j)] = static_cast<int64_t>(start);
    }
  }
  for (const v1::MetricMetadata& metadata : request.metadata()) {
    batch.metadata.push_back(DecodeMetadata(metadata));
  }
  return batch;
}

void EncodeMatcher(const model::LabelMatcher& matcher, v1::LabelMatcher* out) {
  out->set_type(ToProto(matcher.type()));
  out->set_name(matcher.name());
  out->set_value(matcher.value());
}

absl::StatusOr<std::vector<model::LabelMatcher>> DecodeMatchers(
    const google::protobuf::RepeatedPtrField<v1::LabelMatcher>& matchers) {
  std::vector<model::LabelMatcher> out;
  out.reserve(static_cast<size_t>(matchers.size()));
  for (const v1::LabelMatcher& m : matchers) {
    ASSIGN_OR_RETURN(model::MatchType type, FromProto(m.type()));
    ASSIGN_OR_RETURN(model::LabelMatcher matcher,
                     model::LabelMatcher::Create(type, m.name(), m.value()));
    out.push_back(std::move(matcher));
  }
  return out;
}

absl::Status EncodeChunks(model::SampleIterator* it, int max_samples_per_chunk,
                          std::vector<std::string>* chunks) {
  ChunkEncoder encoder;
  while (it->Next()) {
    const model::Sample sample = it->At();
    const int64_t start_ms = it->StartAt();
    // As the head does: a nonzero start cuts a chunk without starts, and the chunks after one
    // with starts have them too.
    if (encoder.num_samples() >= max_samples_per_chunk ||
        (start_ms != 0 && encoder.num_samples() > 0 && !encoder.has_starts())) {
      const bool had_starts = encoder.has_starts();
      chunks->push_back(encoder.TakeBytes());
      if (had_starts) encoder = ChunkEncoder::WithStarts();
    }
    encoder.Append(sample.timestamp_ms, sample.value, start_ms);
  }
  if (encoder.num_samples() > 0) chunks->emplace_back(encoder.bytes());
  return it->status();
}

}  // namespace kura::storage
