#include "ingest/validation.h"

#include <array>
#include <cstdint>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/utf8.h"

namespace kura::ingest {
namespace {

using base::IsValidUtf8;
using base::Utf8SequenceLength;

// Which bytes may appear in names: bit 0 first character of a label name, bit 1 any later
// character, bit 2 metric-name extras (':' anywhere).
constexpr uint8_t kFirst = 1, kLater = 2, kColon = 4;
constexpr std::array<uint8_t, 256> kNameBytes = [] {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    table[c] = static_cast<uint8_t>((letter ? kFirst | kLater : 0) | (digit ? kLater : 0) |
                                    (c == ':' ? kColon : 0));
  }
  return table;
}();

// [a-zA-Z_][a-zA-Z0-9_]*, plus ':' anywhere when `allow_colon` (metric names). A table lookup
// per byte: this runs for every label of every written series.
bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  const uint8_t colon = allow_colon ? kColon : 0;
  if ((kNameBytes[static_cast<uint8_t>(name[0])] & (kFirst | colon)) == 0) return false;
  for (size_t i = 1; i < name.size(); ++i) {
    if ((kNameBytes[static_cast<uint8_t>(name[i])] & (kLater | colon)) == 0) return false;
  }
  return true;
}

// `text` with each byte that is not part of well-formed UTF-8 shown as \xNN.
std::string EscapeInvalidUtf8(std::string text) {
  if (IsValidUtf8(text)) return text;
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      absl::StrAppend(&out, "\\x", absl::Hex(static_cast<uint8_t>(text[i]), absl::kZeroPad2));
      ++i;
    } else {
      out.append(text, i, n);
      i += n;
    }
  }
  return out;
}

// The rule text may quote the offending name, so the whole message is escaped.
absl::Status SeriesError(const model::Labels& labels, const std::string& rule) {
  return absl::InvalidArgumentError(
      EscapeInvalidUtf8(absl::StrCat("invalid series ", labels.ToString(), ": ", rule)));
}

}  // namespace

absl::Status ValidateLabels(const model::Labels& labels) {
  if (labels.empty()) return SeriesError(labels, "a series needs at least one label");
  const model::Label* previous = nullptr;
  for (const model::Label& label : labels) {
    if (!IsValidName(label.name, /*allow_colon=*/false)) {
      return SeriesError(labels, absl::StrCat("invalid label name \"", label.name,
                                              "\": must match [a-zA-Z_][a-zA-Z0-9_]*"));
    }
    if (previous != nullptr && label.name == previous->name) {
      return SeriesError(labels, absl::StrCat("duplicate label name \"", label.name, "\""));
    }
    if (previous != nullptr && label.name < previous->name) {
      return SeriesError(labels, absl::StrCat("label names not sorted ascending: \"", label.name,
                                              "\" comes after \"", previous->name, "\""));
    }
    if (label.value.empty()) {
      return SeriesError(labels,
                         absl::StrCat("label \"", label.name,
                                      "\" has an empty value (an empty value means the label "
                                      "is absent: leave the label out)"));
    }
    if (!IsValidUtf8(label.value)) {
      return SeriesError(labels,
                         absl::StrCat("label \"", label.name, "\" value is not valid UTF-8"));
    }
    previous = &label;
  }
  if (!labels.Has(model::kMetricNameLabel)) {
    return SeriesError(labels, "missing metric name (label __name__)");
  }
  const std::string_view metric_name = labels.Get(model::kMetricNameLabel);
  if (!IsValidName(metric_name, /*allow_colon=*/true)) {
    return SeriesError(labels, absl::StrCat("invalid metric name \"", std::string(metric_name),
                                            "\": must match [a-zA-Z_:][a-zA-Z0-9_:]*"));
  }
  return absl::OkStatus();
}

namespace {

absl::Status ValidateSamples(const model::TimeSeries& series, absl::Time now,
                             absl::Duration max_future_skew) {
  const int64_t max_timestamp_ms = absl::ToUnixMillis(now + max_future_skew);
  for (size_t i = 0; i < series.samples.size(); ++i) {
    int64_t ts = series.samples[i].timestamp_ms;
    if (i > 0 && ts <= series.samples[i - 1].timestamp_ms) {
      return SeriesError(series.labels,
                         absl::StrCat("sample timestamps not strictly ascending: ", ts, " follows ",
                                      series.samples[i - 1].timestamp_ms));
    }
    if (ts > max_timestamp_ms) {
      return SeriesError(series.labels, absl::StrCat("sample timestamp ", ts, " is more than ",
                                                     absl::FormatDuration(max_future_skew),
                                                     " ahead of the receiver's clock (now ",
                                                     absl::ToUnixMillis(now), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateSeries(const model::TimeSeries& series, absl::Time now,
                            absl::Duration max_future_skew) {
  RETURN_IF_ERROR(ValidateLabels(series.labels));
  return ValidateSamples(series, now, max_future_skew);
}

absl::Status ValidateWriteBatch(const model::WriteBatch& batch, absl::Time now,
                                absl::Duration max_future_skew,
                                const std::vector<bool>* labels_valid) {
  for (size_t i = 0; i < batch.series.size(); ++i) {
    const model::TimeSeries& series = batch.series[i];
    if (labels_valid == nullptr || !(*labels_valid)[i]) {
      RETURN_IF_ERROR(ValidateLabels(series.labels));
    }
    RETURN_IF_ERROR(ValidateSamples(series, now, max_future_skew));
  }
  for (const model::MetricMetadata& metadata : batch.metadata) {
    RETURN_IF_ERROR(ValidateMetadata(metadata));
  }
  return absl::OkStatus();
}

absl::Status ValidateMetadata(const model::MetricMetadata& metadata) {
  if (metadata.family.empty()) {
    return absl::InvalidArgumentError("invalid metadata: empty metric family name");
  }
  for (const auto& [what, text] : {std::pair{"metric family name", &metadata.family},
                                   std::pair{"help", &metadata.help},
                                   std::pair{"unit", &metadata.unit}}) {
    if (!IsValidUtf8(*text)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid metadata of \"",
                                                     EscapeInvalidUtf8(metadata.family), "\": ",
                                                     what, " is not valid UTF-8"));
    }
  }
  return absl::OkStatus();
}

std::string DescribeSeries(const model::Labels& labels) {
  return EscapeInvalidUtf8(labels.ToString());
}

}  // namespace kura::ingest
