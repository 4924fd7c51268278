#pragma once

// JsonWriter: a streaming JSON writer that appends to a caller's string, with no document tree,
// so responses of any size cost one buffer. It prints numbers, sample values and strings byte
// for byte as Prometheus's HTTP API does (Go's strconv, jsoniter and encoding/json rules).
//
//   std::string body;
//   JsonWriter w(&body);
//   w.BeginObject();
//   w.Key("value");
//   w.BeginArray(); w.Timestamp(1435781451781); w.SampleValue(1); w.EndArray();
//   w.EndObject();  // {"value":[1435781451.781,"1"]}

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/labels.h"
#include "query/go_float.h"

namespace kura::query {

// Prometheus's jsonutil.MarshalFloat, unquoted: as AppendGoFloat, except that values with
// |v| < 1e-6 or |v| >= 1e21 use Go's exponent form ("1e+21", "1.2345678e-67").
void AppendSampleValue(double v, std::string* out);

// Prometheus's jsonutil.MarshalTimestamp: milliseconds as seconds, with exactly three decimals
// when the fraction is not zero ("1435781451.781", "1.100", "1", "-0.001").
void AppendTimestamp(int64_t t_ms, std::string* out);

// A float64 as Go's encoding/json writes a number ("1435781451.78", "1e-7").
void AppendGoJsonNumber(double v, std::string* out);

// A quoted JSON string escaped as Go's encoding/json does: \" \\ \n \r \t, other control bytes
// and <, >, &, U+2028, U+2029 as \u00XX / \u2028 forms, invalid UTF-8 bytes as \ufffd.
void AppendJsonString(std::string_view s, std::string* out);

// Not thread-safe. Callers keep the nesting balanced; the writer inserts the commas and colons.
class JsonWriter {
 public:
  // `out` must outlive the writer; output is appended.
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // REQUIRES: inside an object; the next call writes the key's value.
  void Key(std::string_view key);

  void String(std::string_view s);
  void Int(int64_t v);
  void Bool(bool v);
  void Null();
  // Appends pre-formatted JSON (e.g. a cached fragment) as one value.
  void Raw(std::string_view json);

  // A sample timestamp, see AppendTimestamp.
  void Timestamp(int64_t t_ms);
  // A sample value as a quoted string, see AppendSampleValue.
  void SampleValue(double v);
  // A float quoted as AppendGoFloat prints it (scalar results use this form).
  void GoFloatString(double v);
  // A Go float64 number, see AppendGoJsonNumber.
  void GoJsonNumber(double v);
  // {"name":"value",...} in label order, as Prometheus's labels.MarshalJSON.
  void Labels(const model::Labels& labels);

 private:
  // Writes the comma that separates this value from its predecessor.
  void BeforeValue();

  std::string* out_;
  // One entry per open object or array: true until its first element is written.
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace kura::query
