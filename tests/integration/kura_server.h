#pragma once

// A `kura standalone` process on 127.0.0.1 for whole-process tests: picks a free port, starts
// the binary on a storage path, and waits (bounded) until /-/ready answers 200.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/integration/process.h"

namespace kura::integration {

class KuraServer {
 public:
  // Starts `binary` in standalone mode on `storage_path`, appending its output to `log_path`.
  // Fails if it is not ready within `ready_timeout` (the process is then killed). `extra_flags`
  // follow the listen address and storage path.
  static absl::StatusOr<std::unique_ptr<KuraServer>> Start(
      const std::string& binary, const std::string& storage_path, const std::string& log_path,
      absl::Duration ready_timeout = absl::Seconds(30),
      const std::vector<std::string>& extra_flags = {});

  int port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:<port>"
  Process& process() { return *process_; }

 private:
  KuraServer(int port, std::unique_ptr<Process> process)
      : port_(port), process_(std::move(process)) {}

  int port_;
  std::unique_ptr<Process> process_;
};

// Polls GET 127.0.0.1:`port``path` until it answers 200, at most every 50 ms and until `timeout`.
// Fails early when `process` exits.
absl::Status WaitForHttpOk(int port, const std::string& path, Process& process,
                           absl::Duration timeout);

}  // namespace kura::integration
