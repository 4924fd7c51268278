#pragma once

// Go's strconv.FormatFloat(v, 'f', -1, 64), the float text Prometheus puts in scalar results,
// label values made from numbers (count_values) and messages.

#include <string>

namespace kura::query {

// The shortest digits that round-trip, laid out without an exponent
// ("1000000000000000000000", "0.0000001", "-0"), and "NaN", "+Inf", "-Inf".
void AppendGoFloat(double v, std::string* out);

inline std::string FormatGoFloat(double v) {
  std::string out;
  AppendGoFloat(v, &out);
  return out;
}

}  // namespace kura::query
