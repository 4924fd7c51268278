#include "shard/membership.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/log.h"

namespace kura::shard {
namespace {

constexpr absl::string_view kDnsPrefix = "dns+";

bool HasPort(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon + 1 == address.size() || colon == 0) return false;
  return std::all_of(address.begin() + static_cast<std::ptrdiff_t>(colon) + 1, address.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> SortedUnique(std::vector<std::string> nodes) {
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  return nodes;
}

}  // namespace

absl::StatusOr<Membership::Spec> Membership::ParseSpec(const std::string& nodes) {
  Spec spec;
  absl::string_view text = absl::StripAsciiWhitespace(nodes);
  if (absl::ConsumePrefix(&text, kDnsPrefix)) {
    if (!HasPort(text)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--store.nodes: want dns+NAME:PORT, got \"", nodes, "\""));
    }
    const size_t colon = text.rfind(':');
    spec.dns_name = std::string(text.substr(0, colon));
    spec.dns_port = std::string(text.substr(colon + 1));
    return spec;
  }
  for (absl::string_view node : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    node = absl::StripAsciiWhitespace(node);
    if (!HasPort(node)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--store.nodes: want host:port, got \"", node, "\""));
    }
    spec.static_nodes.emplace_back(node);
  }
  if (spec.static_nodes.empty()) {
    return absl::InvalidArgumentError("--store.nodes: no storage nodes given");
  }
  spec.static_nodes = SortedUnique(std::move(spec.static_nodes));
  return spec;
}

absl::StatusOr<std::vector<std::string>> Membership::Resolve(const Spec& spec) {
  if (spec.dns_name.empty()) return spec.static_nodes;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(spec.dns_name.c_str(), spec.dns_port.c_str(), &hints, &result);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("resolving ", spec.dns_name, ": ", gai_strerror(rc)));
  }
  std::vector<std::string> nodes;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char host[INET6_ADDRSTRLEN] = {};
    if (ai->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, host,
                sizeof(host));
      nodes.push_back(absl::StrCat(host, ":", spec.dns_port));
    } else if (ai->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, host,
                sizeof(host));
      nodes.push_back(absl::StrCat("[", host, "]:", spec.dns_port));
    }
  }
  freeaddrinfo(result);
  return SortedUnique(std::move(nodes));
}

absl::StatusOr<std::unique_ptr<Membership>> Membership::Create(MembershipOptions options) {
  absl::StatusOr<Spec> spec = ParseSpec(options.nodes);
  if (!spec.ok()) return spec.status();
  std::unique_ptr<Membership> membership(
      new Membership(*std::move(spec), options.refresh_interval));
  if (absl::Status status = membership->Refresh(); !status.ok()) {
    base::LogWarn("resolving storage nodes failed", {{"err", status.ToString()}});
  }
  if (!membership->spec_.dns_name.empty()) {
    membership->refresher_ = std::thread([m = membership.get()] { m->RefreshLoop(); });
  }
  return membership;
}

Membership::Membership(Spec spec, absl::Duration refresh_interval)
    : spec_(std::move(spec)),
      refresh_interval_(refresh_interval),
      snapshot_(std::make_shared<const std::vector<std::string>>()) {}

Membership::~Membership() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (refresher_.joinable()) refresher_.join();
}

std::shared_ptr<const std::vector<std::string>> Membership::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

absl::Status Membership::Refresh() {
  absl::StatusOr<std::vector<std::string>> nodes = Resolve(spec_);
  if (!nodes.ok()) return nodes.status();
  absl::MutexLock lock(&mu_);
  if (*nodes != *snapshot_) {
    base::LogInfo("storage nodes changed", {{"nodes", absl::StrJoin(*nodes, ",")}});
    snapshot_ = std::make_shared<const std::vector<std::string>>(*std::move(nodes));
  }
  return absl::OkStatus();
}

void Membership::RefreshLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping), refresh_interval_)) return;
    }
    if (absl::Status status = Refresh(); !status.ok()) {
      base::LogWarn("re-resolving storage nodes failed", {{"err", status.ToString()}});
    }
  }
}

}  // namespace kura::shard
