#pragma once

// Sender: posts pre-encoded remote-write bodies over keep-alive HTTP/1.1 connections.
//
// Nothing is retried and nothing is hidden: every answer other than 2xx is counted by status
// code, and every transport failure (refused, reset, timeout) is counted as an error; the
// connection is then re-opened for the next request.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "benchmarks/loadgen/request_encoder.h"

namespace kura::loadgen {

struct Url {
  std::string host;
  std::string port;
  std::string path;
};

// Accepts `http://host:port/path`; https is not supported.
absl::StatusOr<Url> ParseUrl(std::string_view url);

struct SendStats {
  int64_t requests = 0;
  int64_t samples_sent = 0;
  // Samples in requests answered 2xx.
  int64_t samples_acknowledged = 0;
  // Status code -> number of requests, for every answer other than 2xx.
  std::map<int, int64_t> non_2xx;
  int64_t transport_errors = 0;
};

class Sender {
 public:
  // Resolves the host and opens `connections` connections. Thread-compatible.
  static absl::StatusOr<std::unique_ptr<Sender>> Connect(const Url& url, int connections);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Sends every request, spread over the connections; returns once each has been answered or
  // has failed.
  void SendAll(const std::vector<EncodedRequest>& requests);

  const SendStats& stats() const { return stats_; }

 private:
  struct Impl;
  explicit Sender(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  SendStats stats_;
};

}  // namespace kura::loadgen
