#include "query/json_writer.h"

#include <charconv>
#include <cmath>

#include "base/utf8.h"

namespace kura::query {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

bool AppendNonFinite(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
    return true;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return true;
  }
  return false;
}

// Shortest round-trip digits in C's exponent form, "[-]d[.ddd]e(+|-)dd": what Go's 'e' format
// with precision -1 also prints.
std::string_view ToScientific(double v, char (&buf)[64]) {
  auto result = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  return std::string_view(buf, result.ptr - buf);
}

// Go's 'e' layout is C's, so only the non-finite spellings differ.
void AppendExponentForm(double v, std::string* out) {
  char buf[64];
  out->append(ToScientific(v, buf));
}

// Go's encoding/json shortens a two-digit negative exponent: "1e-07" -> "1e-7".
void AppendJsonExponentForm(double v, std::string* out) {
  char buf[64];
  std::string_view s = ToScientific(v, buf);
  size_t n = s.size();
  if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') {
    out->append(s.substr(0, n - 2));
    out->push_back(s[n - 1]);
    return;
  }
  out->append(s);
}

bool NeedsExponentForm(double v) {
  double abs = std::fabs(v);
  return abs != 0 && (abs < 1e-6 || abs >= 1e21);
}

}  // namespace

void AppendSampleValue(double v, std::string* out) {
  if (AppendNonFinite(v, out)) return;
  if (NeedsExponentForm(v)) {
    AppendExponentForm(v, out);
  } else {
    AppendGoFloat(v, out);
  }
}

void AppendTimestamp(int64_t t_ms, std::string* out) {
  uint64_t magnitude = static_cast<uint64_t>(t_ms);
  if (t_ms < 0) {
    out->push_back('-');
    magnitude = ~magnitude + 1;  // two's complement negation, defined for INT64_MIN too
  }
  char buf[32];
  auto result = std::to_chars(buf, buf + sizeof(buf), magnitude / 1000);
  out->append(buf, result.ptr);
  uint64_t fraction = magnitude % 1000;
  if (fraction != 0) {
    out->push_back('.');
    out->push_back(static_cast<char>('0' + fraction / 100));
    out->push_back(static_cast<char>('0' + fraction / 10 % 10));
    out->push_back(static_cast<char>('0' + fraction % 10));
  }
}

void AppendGoJsonNumber(double v, std::string* out) {
  if (AppendNonFinite(v, out)) return;
  if (NeedsExponentForm(v)) {
    AppendJsonExponentForm(v, out);
  } else {
    AppendGoFloat(v, out);
  }
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\b': out->append("\\b"); break;
        case '\f': out->append("\\f"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out->append("\\u00");
            out->push_back(kHexDigits[c >> 4]);
            out->push_back(kHexDigits[c & 0xF]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    size_t n = base::Utf8SequenceLength(s, i);
    if (n == 0) {
      out->append("\\ufffd");
      ++i;
      continue;
    }
    std::string_view rune = s.substr(i, n);
    if (rune == "\xE2\x80\xA8" || rune == "\xE2\x80\xA9") {
      out->append(rune == "\xE2\x80\xA8" ? "\\u2028" : "\\u2029");
    } else {
      out->append(rune);
    }
    i += n;
  }
  out->push_back('"');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (first_.empty()) return;
  if (first_.back()) {
    first_.back() = false;
  } else {
    out_->push_back(',');
  }
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_->push_back('{');
  first_.push_back(true);
}

void JsonWriter::EndObject() {
  out_->push_back('}');
  first_.pop_back();
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_->push_back('[');
  first_.push_back(true);
}

void JsonWriter::EndArray() {
  out_->push_back(']');
  first_.pop_back();
}

void JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(key, out_);
  out_->push_back(':');
  after_key_ = true;
}

void JsonWriter::String(std::string_view s) {
  BeforeValue();
  AppendJsonString(s, out_);
}

void JsonWriter::Int(int64_t v) {
  BeforeValue();
  char buf[32];
  auto result = std::to_chars(buf, buf + sizeof(buf), v);
  out_->append(buf, result.ptr);
}

void JsonWriter::Bool(bool v) {
  BeforeValue();
  out_->append(v ? "true" : "false");
}

void JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
}

void JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_->append(json);
}

void JsonWriter::Timestamp(int64_t t_ms) {
  BeforeValue();
  AppendTimestamp(t_ms, out_);
}

void JsonWriter::SampleValue(double v) {
  BeforeValue();
  out_->push_back('"');
  AppendSampleValue(v, out_);
  out_->push_back('"');
}

void JsonWriter::GoFloatString(double v) {
  BeforeValue();
  out_->push_back('"');
  AppendGoFloat(v, out_);
  out_->push_back('"');
}

void JsonWriter::GoJsonNumber(double v) {
  BeforeValue();
  AppendGoJsonNumber(v, out_);
}

void JsonWriter::Labels(const model::Labels& labels) {
  BeginObject();
  for (const model::Label& label : labels) {
    Key(label.name);
    String(label.value);
  }
  EndObject();
}

}  // namespace kura::query
