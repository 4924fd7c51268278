#include "query/go_float.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace kura::query {

void AppendGoFloat(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  // Integral values (counters, most gauges) print as integers; -0 keeps its sign below.
  if (v == std::trunc(v) && std::fabs(v) < 1e15 && !(v == 0 && std::signbit(v))) {
    char buf[24];
    auto result = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v));
    out->append(buf, result.ptr);
    return;
  }
  // Shortest round-trip digits in exponent form, then laid out in plain decimal. (to_chars'
  // fixed form is not Go's: it prints the exact binary expansion of large values.)
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view s(buf, result.ptr - buf);
  if (s.front() == '-') {
    out->push_back('-');
    s.remove_prefix(1);
  }
  // s is "d[.ddd]e(+|-)xx": split into its digits and the decimal exponent.
  size_t e = s.find('e');
  char digits[32];
  int size = 0;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits[size++] = c;
  }
  int exponent = 0;
  std::from_chars(s.data() + e + 2, s.data() + s.size(), exponent);
  if (s[e + 1] == '-') exponent = -exponent;
  // The value is 0.<digits> * 10^point.
  int point = exponent + 1;
  if (point <= 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-point), '0');
    out->append(digits, size);
  } else if (point >= size) {
    out->append(digits, size);
    out->append(static_cast<size_t>(point - size), '0');
  } else {
    out->append(digits, point);
    out->push_back('.');
    out->append(digits + point, size - point);
  }
}

}  // namespace kura::query
