#pragma once

// Go-compatible literal helpers: PromQL reads and prints numbers, strings and runes exactly as
// Prometheus's Go code does (strconv.ParseInt/ParseFloat/Quote/Unquote, utf8.DecodeRune), so
// error texts and printed queries match byte for byte.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kura::query {

inline constexpr int32_t kRuneError = 0xFFFD;  // utf8.RuneError
inline constexpr int32_t kMaxRune = 0x10FFFF;  // unicode.MaxRune

// Go's strconv.ParseInt(s, 0, 64) falling back to strconv.ParseFloat(s, 64), as Prometheus
// reads number literals (so "0755" is octal, "0x1f" hex, "1_000" has a digit separator, "Inf"
// and "NaN" in any case). The error text is Go's, e.g.
// `strconv.ParseFloat: parsing "1e999": value out of range`.
absl::StatusOr<double> ParseNumberLiteral(std::string_view s);

// Unquotes a "...", '...' or `...` literal with Go's escape rules.
absl::StatusOr<std::string> UnquoteString(std::string_view quoted);

// Go's strconv.Quote: double-quoted with Go escapes (printing strings and label values).
std::string GoQuote(std::string_view s);

// Go's strconv.QuoteRune: `'x'`.
std::string GoQuoteRune(int32_t rune);

// Decodes one UTF-8 sequence at `s[pos]` as Go does: an invalid byte decodes as U+FFFD with
// width 1. Returns the rune; `*width` gets its length (0 at the end of `s`).
int32_t DecodeRune(std::string_view s, int pos, int* width);

// Go's `%#U` form of a rune: `U+0078 'x'` (the quoted part only when printable).
std::string GoRuneWithCode(int32_t rune);

// The value of a hexadecimal digit rune, or 16 for anything else (Go's digitVal).
int HexDigitValue(int32_t rune);

}  // namespace kura::query
