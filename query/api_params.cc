#include "query/api_params.h"

#include <charconv>
#include <cmath>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"

namespace kura::query {
namespace {

// This Abseil's string_view is its own type, not std::string_view.
absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Go's strconv.Quote for the ASCII texts that appear in these messages.
std::string Quote(std::string_view s) { return absl::StrCat("\"", absl::CEscape(AsAbsl(s)), "\""); }

// Go's strconv.ParseFloat for decimal input: an optional sign, digits with an optional fraction
// and exponent, or inf/infinity/nan in any case. Hexadecimal floats are not accepted.
std::optional<double> ParseGoFloat(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.front() == '+' || s.front() == '-') return std::nullopt;
  double v = 0;
  auto result = std::from_chars(s.data(), s.data() + s.size(), v);
  if (result.ec != std::errc() || result.ptr != s.data() + s.size()) return std::nullopt;
  return negative ? -v : v;
}

// Unix seconds as Prometheus reads them: the fraction rounded to milliseconds, then
// time.Unix(sec, nsec) normalization and UnixMilli's truncation.
std::optional<int64_t> FloatSecondsToMs(double seconds) {
  if (!std::isfinite(seconds)) return std::nullopt;
  double whole = 0;
  double fraction = std::modf(seconds, &whole);
  fraction = std::round(fraction * 1000) / 1000;
  if (std::fabs(whole) > 9.2e15) return std::nullopt;
  int64_t sec = static_cast<int64_t>(whole);
  int64_t nsec = static_cast<int64_t>(fraction * 1e9);
  if (nsec < 0) {
    sec -= 1;
    nsec += 1'000'000'000;
  }
  return sec * 1000 + nsec / 1'000'000;
}

// Reads exactly `n` decimal digits at `*pos`.
std::optional<int> Digits(std::string_view s, size_t* pos, size_t n) {
  if (*pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (!absl::ascii_isdigit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  return v;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

// Go's time.Parse(time.RFC3339Nano, s): "2006-01-02T15:04:05.999999999Z07:00".
std::optional<int64_t> ParseRfc3339Ms(std::string_view s) {
  size_t pos = 0;
  auto year = Digits(s, &pos, 4);
  if (!year || !Expect(s, &pos, '-')) return std::nullopt;
  auto month = Digits(s, &pos, 2);
  if (!month || !Expect(s, &pos, '-')) return std::nullopt;
  auto day = Digits(s, &pos, 2);
  if (!day || !Expect(s, &pos, 'T')) return std::nullopt;
  auto hour = Digits(s, &pos, 2);
  if (!hour || !Expect(s, &pos, ':')) return std::nullopt;
  auto minute = Digits(s, &pos, 2);
  if (!minute || !Expect(s, &pos, ':')) return std::nullopt;
  auto second = Digits(s, &pos, 2);
  if (!second) return std::nullopt;
  int64_t nanos = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    size_t start = pos;
    int64_t scale = 100'000'000;
    while (pos < s.size() && absl::ascii_isdigit(s[pos])) {
      nanos += (s[pos] - '0') * scale;  // digits past the ninth are read and dropped
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset_seconds = 0;
  if (Expect(s, &pos, 'Z')) {
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    auto offset_hour = Digits(s, &pos, 2);
    if (!offset_hour || !Expect(s, &pos, ':')) return std::nullopt;
    auto offset_minute = Digits(s, &pos, 2);
    if (!offset_minute || *offset_hour > 23 || *offset_minute > 59) return std::nullopt;
    offset_seconds = sign * (*offset_hour * 3600 + *offset_minute * 60);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  if (*month < 1 || *month > 12 || *hour > 23 || *minute > 59 || *second > 59) {
    return std::nullopt;
  }
  absl::CivilDay civil_day(*year, *month, *day);
  if (civil_day.month() != *month || civil_day.day() != *day) return std::nullopt;
  absl::Time t = absl::FromCivil(absl::CivilSecond(*year, *month, *day, *hour, *minute, *second),
                                 absl::UTCTimeZone()) -
                 absl::Seconds(offset_seconds) + absl::Nanoseconds(nanos);
  return absl::ToUnixMillis(t);
}

// common/model.ParseDuration: units y, w, d, h, m, s, ms, each at most once, largest first;
// "0" alone needs no unit.
std::optional<absl::Duration> ParseModelDuration(std::string_view s) {
  if (s == "0") return absl::ZeroDuration();
  if (s.empty()) return std::nullopt;
  struct Unit {
    std::string_view name;
    uint64_t nanos;
  };
  static constexpr Unit kUnits[] = {
      {"y", 365ULL * 24 * 3600 * 1'000'000'000},
      {"w", 7ULL * 24 * 3600 * 1'000'000'000},
      {"d", 24ULL * 3600 * 1'000'000'000},
      {"h", 3600ULL * 1'000'000'000},
      {"m", 60ULL * 1'000'000'000},
      {"s", 1'000'000'000},
      {"ms", 1'000'000},
  };
  constexpr uint64_t kMax = (1ULL << 63) - 1;
  uint64_t total = 0;
  size_t next_unit = 0;  // units must appear in kUnits order
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    while (pos < s.size() && absl::ascii_isdigit(s[pos])) ++pos;
    uint64_t value = 0;
    auto parsed = std::from_chars(s.data() + start, s.data() + pos, value);
    if (pos == start || parsed.ec != std::errc()) return std::nullopt;
    start = pos;
    while (pos < s.size() && !absl::ascii_isdigit(s[pos])) ++pos;
    std::string_view unit_name = s.substr(start, pos - start);
    size_t unit = next_unit;
    while (unit < std::size(kUnits) && kUnits[unit].name != unit_name) ++unit;
    if (unit == std::size(kUnits)) return std::nullopt;
    next_unit = unit + 1;
    if (value > kMax / kUnits[unit].nanos) return std::nullopt;
    total += value * kUnits[unit].nanos;
    if (total > kMax) return std::nullopt;
  }
  return absl::Nanoseconds(static_cast<int64_t>(total));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<int64_t> ParseTimeMs(std::string_view s) {
  if (std::optional<double> seconds = ParseGoFloat(s)) {
    if (std::optional<int64_t> ms = FloatSecondsToMs(*seconds)) return *ms;
  } else if (std::optional<int64_t> ms = ParseRfc3339Ms(s)) {
    return *ms;
  } else if (s == kMinTimeFormatted) {
    return kMinTimeMs;
  } else if (s == kMaxTimeFormatted) {
    return kMaxTimeMs;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse ", Quote(s), " to a valid timestamp"));
}

absl::StatusOr<absl::Duration> ParseApiDuration(std::string_view s) {
  if (std::optional<double> seconds = ParseGoFloat(s); seconds && !std::isnan(*seconds)) {
    double nanos = *seconds * 1e9;
    if (nanos >= 9.223372036854775807e18 || nanos < -9.223372036854775808e18) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot parse ", Quote(s), " to a valid duration. It overflows int64"));
    }
    return absl::Nanoseconds(static_cast<int64_t>(nanos));
  }
  if (std::optional<absl::Duration> d = ParseModelDuration(s)) return *d;
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse ", Quote(s), " to a valid duration"));
}

absl::StatusOr<int64_t> ParseLimit(std::string_view s) {
  if (s.empty()) return 0;
  std::string_view digits = s;
  if (digits.front() == '+') digits.remove_prefix(1);
  int64_t limit = 0;
  auto result = std::from_chars(digits.data(), digits.data() + digits.size(), limit);
  if (result.ec == std::errc::result_out_of_range) {
    return absl::InvalidArgumentError(
        absl::StrCat("strconv.Atoi: parsing ", Quote(s), ": value out of range"));
  }
  if (digits.empty() || result.ec != std::errc() || result.ptr != digits.data() + digits.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("strconv.Atoi: parsing ", Quote(s), ": invalid syntax"));
  }
  if (limit < 0) return absl::InvalidArgumentError("limit must be non-negative");
  return limit;
}

absl::StatusOr<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid URL escape ", Quote(s.substr(i, 3))));
      }
      out.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseUrlEncoded(
    std::string_view s) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (s.empty()) return pairs;
  for (absl::string_view part : absl::StrSplit(AsAbsl(s), '&')) {
    if (part.find(';') != std::string_view::npos) {
      return absl::InvalidArgumentError("invalid semicolon separator in query");
    }
    if (part.empty()) continue;
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    absl::StatusOr<std::string> key =
        PercentDecode(std::string_view(kv.first.data(), kv.first.size()));
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> value =
        PercentDecode(std::string_view(kv.second.data(), kv.second.size()));
    if (!value.ok()) return value.status();
    pairs.emplace_back(*std::move(key), *std::move(value));
  }
  return pairs;
}

absl::StatusOr<ApiParams> ApiParams::FromRequest(const base::HttpRequest& request) {
  ApiParams params;
  std::string_view content_type = request.Header("content-type");
  absl::string_view media_type =
      absl::StripAsciiWhitespace(AsAbsl(content_type.substr(0, content_type.find(';'))));
  bool has_form_body =
      (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") &&
      absl::EqualsIgnoreCase(media_type, "application/x-www-form-urlencoded");
  if (has_form_body) {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> body =
        ParseUrlEncoded(request.body);
    if (!body.ok()) return body.status();
    params.values_ = *std::move(body);
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> query =
      ParseUrlEncoded(request.query);
  if (!query.ok()) return query.status();
  for (auto& pair : *query) params.values_.push_back(std::move(pair));
  return params;
}

std::string_view ApiParams::Get(std::string_view name) const {
  for (const auto& [key, value] : values_) {
    if (key == name) return value;
  }
  return {};
}

std::vector<std::string> ApiParams::GetAll(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : values_) {
    if (key == name) values.push_back(value);
  }
  return values;
}

absl::Status InvalidParam(std::string_view name, const absl::Status& status) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid parameter \"", AsAbsl(name), "\": ", status.message()));
}

absl::StatusOr<int64_t> TimeParam(const ApiParams& params, std::string_view name,
                                  int64_t default_ms) {
  std::string_view value = params.Get(name);
  if (value.empty()) return default_ms;
  absl::StatusOr<int64_t> t = ParseTimeMs(value);
  if (!t.ok()) {
    return InvalidParam(
        name, absl::InvalidArgumentError(absl::StrCat("Invalid time value for '", AsAbsl(name),
                                                      "': ", t.status().message())));
  }
  return t;
}

}  // namespace kura::query
