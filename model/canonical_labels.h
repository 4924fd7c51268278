#pragma once

// CanonicalLabels: a label set's canonical bytes (Labels::CanonicalView) with their hash, held
// by reference count. model::Labels keeps its canonical form in one, and hands out copies
// (Labels::Canonical), so a store that keys its series by canonical bytes shares them with the
// label set it was written with instead of holding a second copy.
//
// Immutable; thread-safe. Copies are a reference count; default-constructed and moved-from
// values are the empty bytes.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kura::model {

class Labels;

class CanonicalLabels {
 public:
  CanonicalLabels() = default;
  CanonicalLabels(const CanonicalLabels& other) noexcept : rep_(other.rep_) { Ref(rep_); }
  CanonicalLabels(CanonicalLabels&& other) noexcept : rep_(other.rep_) { other.rep_ = nullptr; }
  CanonicalLabels& operator=(const CanonicalLabels& other) noexcept {
    Ref(other.rep_);
    Unref(rep_);
    rep_ = other.rep_;
    return *this;
  }
  CanonicalLabels& operator=(CanonicalLabels&& other) noexcept {
    if (this != &other) {
      Unref(rep_);
      rep_ = other.rep_;
      other.rep_ = nullptr;
    }
    return *this;
  }
  ~CanonicalLabels() { Unref(rep_); }

  // A copy of `bytes`. REQUIRES: `hash` is Labels::HashCanonical(bytes).
  static CanonicalLabels Copy(std::string_view bytes, uint64_t hash);

  std::string_view bytes() const {
    return rep_ == nullptr ? std::string_view() : std::string_view(Data(rep_), rep_->size);
  }
  // Labels::HashCanonical(bytes()); for the empty value, the hash of no bytes.
  uint64_t hash() const { return rep_ == nullptr ? EmptyHash() : rep_->hash; }

 private:
  friend class Labels;

  // One allocation: this header, then the bytes.
  struct Rep {
    mutable std::atomic<int64_t> refs{1};
    uint64_t hash = 0;
    size_t size = 0;
  };

  static const char* Data(const Rep* rep) { return reinterpret_cast<const char*>(rep + 1); }
  static uint64_t EmptyHash();
  static void Ref(const Rep* rep) {
    if (rep != nullptr) rep->refs.fetch_add(1, std::memory_order_relaxed);
  }
  static void Unref(const Rep* rep) {
    if (rep != nullptr && rep->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) Free(rep);
  }
  static void Free(const Rep* rep);
  // `size` bytes for the caller to write at *data; then it sets the hash with SetHash.
  static CanonicalLabels Allocate(size_t size, char** data);
  void SetHash(uint64_t hash) { const_cast<Rep*>(rep_)->hash = hash; }

  const Rep* rep_ = nullptr;
};

}  // namespace kura::model
