#include "query/eval_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace kura::query {
namespace {

void AddUnique(std::vector<std::string>* list, std::string text) {
  if (std::find(list->begin(), list->end(), text) == list->end()) {
    list->push_back(std::move(text));
  }
}


}  // namespace

void Annotations::Warn(std::string text) { AddUnique(&warnings, std::move(text)); }
void Annotations::Info(std::string text) { AddUnique(&infos, std::move(text)); }

model::Labels DropMetricName(const model::Labels& labels) {
  std::vector<model::Label> out;
  out.reserve(labels.size());
  for (const auto& l : labels) {
    if (l.name == "__name__" || l.name == "__type__" || l.name == "__unit__") continue;
    out.push_back(l);
  }
  return model::Labels::FromSorted(std::move(out));
}


}  // namespace kura::query
