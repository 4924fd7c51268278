#pragma once

// Sample and Prometheus's staleness marker.

#include <bit>
#include <cstdint>

namespace kura::model {

// Prometheus's stale-marker NaN (value.StaleNaN). Stored exactly as sent.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

inline double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
inline bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

struct Sample {
  int64_t timestamp_ms = 0;
  double value = 0;
};

}  // namespace kura::model
