#include "tests/integration/kura_server.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/integration/free_port.h"
#include "tests/integration/http_client.h"

namespace kura::integration {

absl::Status WaitForHttpOk(int port, const std::string& path, Process& process,
                           absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last_error = "no attempt";
  while (absl::Now() < deadline) {
    if (!process.running()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "process exited before ", path, " answered 200; log tail:\n", process.LogTail()));
    }
    absl::StatusOr<HttpResult> result = HttpGet(port, path, absl::Seconds(2));
    if (result.ok() && result->status == 200) return absl::OkStatus();
    last_error = result.ok() ? absl::StrCat("HTTP ", result->status, ": ", result->body)
                             : result.status().ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("127.0.0.1:", port, path, " not 200 after ", absl::FormatDuration(timeout),
                   " (last: ", last_error, "); log tail:\n", process.LogTail()));
}

absl::StatusOr<std::unique_ptr<KuraServer>> KuraServer::Start(
    const std::string& binary, const std::string& storage_path, const std::string& log_path,
    absl::Duration ready_timeout, const std::vector<std::string>& extra_flags) {
  absl::StatusOr<int> port = PickFreePort();
  if (!port.ok()) return port.status();
  std::vector<std::string> argv = {binary, "standalone",
                                   absl::StrCat("--http.listen-address=127.0.0.1:", *port),
                                   absl::StrCat("--storage.path=", storage_path)};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(argv, log_path);
  if (!process.ok()) return process.status();
  if (absl::Status ready = WaitForHttpOk(*port, "/-/ready", **process, ready_timeout);
      !ready.ok()) {
    return ready;  // the Process destructor kills the child
  }
  return std::unique_ptr<KuraServer>(new KuraServer(*port, *std::move(process)));
}

std::string KuraServer::url() const { return absl::StrCat("http://127.0.0.1:", port_); }

}  // namespace kura::integration
