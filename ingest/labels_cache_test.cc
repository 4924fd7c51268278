#include "ingest/labels_cache.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kura::ingest {
namespace {

model::Labels Series(int i) {
  return model::Labels::FromSorted(
      {{"__name__", "node_cpu_seconds_total"}, {"instance", absl::StrCat("10.0.0.", i, ":9100")}});
}

void PutVarint(std::string* out, uint64_t v) {
  for (; v >= 0x80; v >>= 7) out->push_back(static_cast<char>((v & 0x7f) | 0x80));
  out->push_back(static_cast<char>(v));
}

void PutField(std::string* out, char tag, std::string_view bytes) {
  out->push_back(tag);
  PutVarint(out, bytes.size());
  out->append(bytes);
}

// One prometheus.Label message as senders write it.
std::string LabelMessage(std::string_view name, std::string_view value) {
  std::string message;
  if (!name.empty()) PutField(&message, 0x0a, name);
  if (!value.empty()) PutField(&message, 0x12, value);
  return message;
}

// A TimeSeries' label fields for `labels` in the given order.
std::string Wire(const std::vector<model::Label>& labels) {
  std::string wire;
  for (const model::Label& l : labels) PutField(&wire, 0x0a, LabelMessage(l.name, l.value));
  return wire;
}

std::string Wire(const model::Labels& labels) { return Wire(labels.items()); }

TEST(LabelsCacheTest, HitNeedsTheExactBytes) {
  LabelsCache cache(1 << 20);
  const std::string wire = Wire(Series(1));
  EXPECT_FALSE(cache.Find(wire).has_value());
  cache.Insert(wire, Series(1));
  std::optional<model::Labels> hit = cache.Find(wire);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(*hit, Series(1));
  EXPECT_FALSE(cache.Find(Wire(Series(2))).has_value());
  EXPECT_FALSE(cache.Find(wire.substr(0, wire.size() - 1)).has_value());  // a prefix
  EXPECT_FALSE(cache.Find(wire + "1").has_value());                       // an extension
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), LabelsCache::EntryBytes(Series(1)));
}

TEST(LabelsCacheTest, HitSharesTheLabels) {
  LabelsCache cache(1 << 20);
  const model::Labels labels = Series(1);
  cache.Insert(Wire(labels), labels);
  std::optional<model::Labels> hit = cache.Find(Wire(labels));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->CanonicalView().data(), labels.CanonicalView().data());
}

TEST(LabelsCacheTest, RecognisesOnlyTheSendersEncoding) {
  const model::Labels labels = Series(1);
  const std::string name_field = LabelMessage("__name__", "node_cpu_seconds_total");
  const std::string instance_field = LabelMessage("instance", "10.0.0.1:9100");
  EXPECT_TRUE(LabelsCache::IsEncodingOf(Wire(labels), labels));

  // Another order, a label twice or missing: other label lists.
  EXPECT_FALSE(LabelsCache::IsEncodingOf(Wire({labels.items()[1], labels.items()[0]}), labels));
  EXPECT_FALSE(LabelsCache::IsEncodingOf(
      Wire({labels.items()[0], labels.items()[1], labels.items()[1]}), labels));
  EXPECT_FALSE(LabelsCache::IsEncodingOf(Wire({labels.items()[0]}), labels));
  EXPECT_FALSE(
      LabelsCache::IsEncodingOf(Wire({labels.items()[0], {"instance", "10.0.0.1:9101"}}), labels));

  // A length as a non-minimal varint decodes to the same labels: recognised, and correct. One
  // longer than 4 bytes is left to the decoder.
  std::string overlong;
  overlong.push_back(0x0a);
  overlong.push_back(static_cast<char>(0x80 | name_field.size()));
  overlong.push_back(0x00);
  overlong += name_field;
  PutField(&overlong, 0x0a, instance_field);
  EXPECT_TRUE(LabelsCache::IsEncodingOf(overlong, labels));
  std::string five_bytes;
  five_bytes.push_back(0x0a);
  five_bytes += std::string("\x80\x80\x80\x80", 4);
  five_bytes.push_back(0x00);
  EXPECT_FALSE(LabelsCache::IsEncodingOf(five_bytes + name_field, labels));
  std::string huge_length = "\x0a\xff\xff\xff\x7f";  // 256 MiB, more than there is
  EXPECT_FALSE(LabelsCache::IsEncodingOf(huge_length + name_field, labels));
  std::string truncated = Wire(labels);
  truncated.pop_back();
  EXPECT_FALSE(LabelsCache::IsEncodingOf(truncated, labels));

  // The same labels in other forms: not recognised (they decode the slow way).

  std::string unknown_field;  // a field 3 inside the last label
  PutField(&unknown_field, 0x0a, name_field);
  PutField(&unknown_field, 0x0a, instance_field + "\x18\x01");
  EXPECT_FALSE(LabelsCache::IsEncodingOf(unknown_field, labels));

  std::string value_first;  // value before name
  PutField(&value_first, 0x0a, name_field);
  std::string swapped;
  PutField(&swapped, 0x12, "10.0.0.1:9100");
  PutField(&swapped, 0x0a, "instance");
  PutField(&value_first, 0x0a, swapped);
  EXPECT_FALSE(LabelsCache::IsEncodingOf(value_first, labels));

  std::string repeated_name;  // the name field twice: the last would win when decoding
  PutField(&repeated_name, 0x0a, name_field);
  std::string twice;
  PutField(&twice, 0x0a, "other");
  twice += instance_field;
  PutField(&repeated_name, 0x0a, twice);
  EXPECT_FALSE(LabelsCache::IsEncodingOf(repeated_name, labels));

  // An empty value is left out, as proto3 writes it; written out as an empty field, it decodes
  // the same.
  const model::Labels empty_value = model::Labels::FromSorted({{"a", "1"}, {"b", ""}});
  EXPECT_TRUE(LabelsCache::IsEncodingOf(Wire(empty_value), empty_value));
  std::string explicit_empty;
  PutField(&explicit_empty, 0x0a, LabelMessage("a", "1"));
  PutField(&explicit_empty, 0x0a, LabelMessage("b", "") + std::string("\x12\x00", 2));
  EXPECT_TRUE(LabelsCache::IsEncodingOf(explicit_empty, empty_value));
  // A value where the labels have none, or none where they have one.
  EXPECT_FALSE(LabelsCache::IsEncodingOf(Wire({{"a", "1"}, {"b", "2"}}), empty_value));
  EXPECT_FALSE(LabelsCache::IsEncodingOf(Wire({{"a", "1"}, {"b", ""}}), labels));
  EXPECT_FALSE(LabelsCache::IsEncodingOf(Wire({{"a", ""}, {"b", ""}}), empty_value));
  // A name split differently between name and value.
  const model::Labels ab = model::Labels::FromSorted({{"ab", "c"}});
  EXPECT_FALSE(LabelsCache::IsEncodingOf(Wire({{"a", "bc"}}), ab));
  EXPECT_FALSE(LabelsCache::IsEncodingOf(Wire({{"a", "b"}, {"c", ""}}), ab));

  // Long strings take multi-byte lengths.
  const model::Labels long_value =
      model::Labels::FromSorted({{"__name__", "m"}, {"pod", std::string(300, 'p')}});
  EXPECT_TRUE(LabelsCache::IsEncodingOf(Wire(long_value), long_value));
}

TEST(LabelsCacheTest, OtherEncodingsAreNotCached) {
  LabelsCache cache(1 << 20);
  const model::Labels labels = Series(1);
  std::string unknown_field;
  PutField(&unknown_field, 0x0a, LabelMessage("__name__", "node_cpu_seconds_total"));
  PutField(&unknown_field, 0x0a, LabelMessage("instance", "10.0.0.1:9100") + "\x18\x01");
  cache.Insert(unknown_field, labels);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.Find(unknown_field).has_value());
  // Nor labels whose canonical form would not split into their names and values.
  const model::Labels separator = model::Labels::FromSorted({{"a", std::string("b\xff") + "c"}});
  cache.Insert(Wire(separator), separator);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(LabelsCacheTest, AHashMatchIsCheckedAgainstTheLabels) {
  LabelsCache cache(1 << 20);
  const std::string wire = Wire(Series(1));
  // The bytes say one thing, the labels another (an insert that broke its REQUIRES): the
  // check refuses it, so no lookup can return labels the bytes do not decode to.
  cache.Insert(wire, Series(2));
  EXPECT_FALSE(cache.Find(wire).has_value());
  EXPECT_FALSE(cache.Find(Wire(Series(2))).has_value());
}

TEST(LabelsCacheTest, CollidingHashesNeverReturnOtherLabels) {
  LabelsCache cache(1 << 20, [](std::string_view) -> uint64_t { return 42; });
  cache.Insert(Wire(Series(1)), Series(1));
  // Same hash, other bytes: a miss, and the entry in the slot stays.
  EXPECT_FALSE(cache.Find(Wire(Series(2))).has_value());
  cache.Insert(Wire(Series(2)), Series(2));
  EXPECT_FALSE(cache.Find(Wire(Series(2))).has_value());
  std::optional<model::Labels> hit = cache.Find(Wire(Series(1)));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(*hit, Series(1));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(LabelsCacheTest, StaysWithinItsBudget) {
  const size_t budget = 64 << 10;
  LabelsCache cache(budget);
  for (int i = 0; i < 10000; ++i) cache.Insert(Wire(Series(i)), Series(i));
  EXPECT_LE(cache.bytes(), budget);
  EXPECT_GT(cache.size(), 0u);
  EXPECT_LT(cache.size(), 10000u);
  // The newest are still there; the oldest went.
  EXPECT_TRUE(cache.Find(Wire(Series(9999))).has_value());
  EXPECT_FALSE(cache.Find(Wire(Series(0))).has_value());
}

TEST(LabelsCacheTest, EntriesInUseSurviveRotation) {
  const size_t budget = 64 << 10;
  LabelsCache cache(budget);
  const model::Labels hot = model::Labels::FromSorted({{"__name__", "hot"}});
  cache.Insert(Wire(hot), hot);
  for (int i = 0; i < 10000; ++i) {
    cache.Insert(Wire(Series(i)), Series(i));
    std::optional<model::Labels> hit = cache.Find(Wire(hot));
    ASSERT_TRUE(hit.has_value()) << i;
    ASSERT_EQ(*hit, hot);
  }
  EXPECT_LE(cache.bytes(), budget);
}

TEST(LabelsCacheTest, ZeroBytesDisables) {
  LabelsCache cache(0);
  cache.Insert(Wire(Series(1)), Series(1));
  EXPECT_FALSE(cache.Find(Wire(Series(1))).has_value());
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(LabelsCacheTest, ConcurrentUse) {
  LabelsCache cache(256 << 10);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache] {
      for (int i = 0; i < 20000; ++i) {
        const int n = i % 700;
        const std::string wire = Wire(Series(n));
        if (std::optional<model::Labels> hit = cache.Find(wire)) {
          ASSERT_EQ(*hit, Series(n));
        } else {
          cache.Insert(wire, Series(n));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(cache.bytes(), size_t{256} << 10);
}

}  // namespace
}  // namespace kura::ingest
