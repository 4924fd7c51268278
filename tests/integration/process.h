#pragma once

// A child process started with fork/exec whose stdout and stderr go to a log file. The owner
// always reaps it: the destructor kills a child that is still running, and the child gets
// SIGKILL from the kernel if the test process itself dies, so no test leaves a server behind.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kura::integration {

class Process {
 public:
  // Starts `argv[0]` (a path, not searched in $PATH) with `argv`; output is appended to
  // `log_path`.
  static absl::StatusOr<std::unique_ptr<Process>> Start(const std::vector<std::string>& argv,
                                                        const std::string& log_path);
  // As Start(), with stdout and stderr in separate files (truncated first) and no header line.
  static absl::StatusOr<std::unique_ptr<Process>> StartSplit(const std::vector<std::string>& argv,
                                                             const std::string& stdout_path,
                                                             const std::string& stderr_path);

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  // Kills the child with SIGKILL if it still runs, and reaps it.
  ~Process();

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  bool running();

  // Sends `signal` and waits up to `timeout` for the child to exit. DeadlineExceeded if it does
  // not; the child then still runs and the destructor will SIGKILL it.
  absl::Status Signal(int signal, absl::Duration timeout);
  // SIGKILL, then reap.
  absl::Status Kill();
  // SIGTERM with `timeout` for a graceful exit; SIGKILL if that does not happen.
  absl::Status Stop(absl::Duration timeout);
  // Waits up to `timeout` for the child to exit on its own; returns its exit status as given by
  // waitpid (use WIFEXITED etc.).
  absl::StatusOr<int> Wait(absl::Duration timeout);

  // The last `max_bytes` of the log, for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  Process(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  static absl::StatusOr<std::unique_ptr<Process>> Spawn(const std::vector<std::string>& argv,
                                                        int stdout_fd, int stderr_fd,
                                                        const std::string& log_path);

  pid_t pid_;
  std::string log_path_;
  bool reaped_ = false;
  int wait_status_ = 0;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// Runs `argv` to completion, capturing its output through files `scratch_path`.out and .err;
// DeadlineExceeded (and the child killed) when it takes longer than `timeout`.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& scratch_path, absl::Duration timeout);

// Reads a whole file; "" if it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace kura::integration
