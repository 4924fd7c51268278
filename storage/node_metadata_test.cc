// Metric family metadata on a real node: written with a batch, replaced by later writes,
// read back sorted, and kept across a reopen.

#include <memory>
#include <string>
#include <vector>

#include "base/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/metadata.h"
#include "storage/metadata_store.h"
#include "storage/node.h"

namespace kura::storage {
namespace {

using model::MetricMetadata;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class NodeMetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("node_metadata_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    Open();
  }

  void Open() {
    node_.reset();
    NodeOptions options;
    options.data_dir = temp_.path() + "/data";
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
  }

  void Write(std::vector<MetricMetadata> metadata, bool with_series = false) {
    model::WriteBatch batch;
    batch.metadata = std::move(metadata);
    if (with_series) {
      batch.series.push_back({model::Labels::FromUnsorted({{"__name__", "up"}}), {{1000, 1}}});
    }
    ASSERT_TRUE(node_->Write(batch).ok());
  }

  std::vector<MetricMetadata> Get(std::string_view metric = "") {
    absl::StatusOr<std::vector<MetricMetadata>> got = node_->Metadata(metric);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : std::vector<MetricMetadata>();
  }

  base::TempDir temp_;
  std::unique_ptr<Node> node_;
};

TEST_F(NodeMetadataTest, LatestEntryPerFamilySurvivesAReopen) {
  EXPECT_THAT(Get(), IsEmpty());
  const MetricMetadata up{"up", "gauge", "Whether the target answered.", ""};
  const MetricMetadata requests{"http_requests_total", "counter", "Requests.", ""};
  Write({up, requests}, /*with_series=*/true);
  EXPECT_THAT(Get(), ElementsAre(requests, up));
  EXPECT_THAT(Get("up"), ElementsAre(up));
  EXPECT_THAT(Get("down"), IsEmpty());

  // A later description replaces the family's; of two in one batch, the last counts.
  const MetricMetadata up_v2{"up", "gauge", "1 if the scrape succeeded.", ""};
  const MetricMetadata duration{"latency", "histogram", "Latency.", "seconds"};
  Write({up_v2, duration, {"latency", "summary", "Old.", ""}, duration});
  EXPECT_THAT(Get(), ElementsAre(requests, duration, up_v2));

  Open();
  EXPECT_THAT(Get(), ElementsAre(requests, duration, up_v2));
}

TEST(MetadataValueTest, RoundTripsAndRejectsMalformedBytes) {
  const MetricMetadata m{"", "counter", std::string(300, 'h'), "bytes"};
  const std::string value = EncodeMetadataValue(m);
  MetricMetadata back;
  ASSERT_TRUE(ParseMetadataValue(value, &back));
  EXPECT_EQ(back, m);
  for (size_t len = 0; len < value.size(); ++len) {
    EXPECT_FALSE(ParseMetadataValue(std::string_view(value).substr(0, len), &back)) << len;
  }
  EXPECT_FALSE(ParseMetadataValue(value + "x", &back));
}

}  // namespace
}  // namespace kura::storage
