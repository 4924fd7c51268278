#include "model/canonical_labels.h"

#include <cstring>
#include <new>

#include "xxhash.h"

namespace kura::model {

CanonicalLabels CanonicalLabels::Allocate(size_t size, char** data) {
  CanonicalLabels out;
  void* memory = ::operator new(sizeof(Rep) + size);
  auto* rep = new (memory) Rep;
  rep->size = size;
  *data = reinterpret_cast<char*>(rep + 1);
  out.rep_ = rep;
  return out;
}

CanonicalLabels CanonicalLabels::Copy(std::string_view bytes, uint64_t hash) {
  if (bytes.empty()) return CanonicalLabels();
  char* data = nullptr;
  CanonicalLabels out = Allocate(bytes.size(), &data);
  std::memcpy(data, bytes.data(), bytes.size());
  out.SetHash(hash);
  return out;
}

uint64_t CanonicalLabels::EmptyHash() {
  static const uint64_t hash = XXH3_64bits(nullptr, 0);
  return hash;
}

void CanonicalLabels::Free(const Rep* rep) {
  rep->~Rep();
  ::operator delete(const_cast<Rep*>(rep));
}

}  // namespace kura::model
