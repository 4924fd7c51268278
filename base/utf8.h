#pragma once

// UTF-8 validity as Go's unicode/utf8 defines it (label values, JSON strings, messages).

#include <cstddef>
#include <string_view>

namespace kura::base {

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 when there is none. Rejects
// overlong forms, surrogates and code points above U+10FFFF, as Go's utf8.ValidString does.
// REQUIRES: i < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);

bool IsValidUtf8(std::string_view s);

}  // namespace kura::base
