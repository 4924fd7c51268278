#include "tests/integration/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kura::integration {
namespace {

// Exit polling interval: a child exits within milliseconds of SIGKILL, so a short interval keeps
// tests fast without spinning.
constexpr absl::Duration kPollInterval = absl::Milliseconds(10);

absl::StatusOr<int> OpenForOutput(const std::string& path, int flags) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Process>> Process::Start(const std::vector<std::string>& argv,
                                                        const std::string& log_path) {
  absl::StatusOr<int> fd = OpenForOutput(log_path, O_APPEND);
  if (!fd.ok()) return fd.status();
  absl::Cleanup close_fd = [fd = *fd] { close(fd); };
  // The header goes in before the child exists, so it never interleaves with the child's output.
  std::string header = absl::StrCat("# starting: ", absl::StrJoin(argv, " "), "\n");
  if (write(*fd, header.data(), header.size()) < 0) {
    return absl::InternalError(absl::StrCat("write ", log_path, ": ", std::strerror(errno)));
  }
  return Spawn(argv, *fd, *fd, log_path);
}

absl::StatusOr<std::unique_ptr<Process>> Process::StartSplit(const std::vector<std::string>& argv,
                                                             const std::string& stdout_path,
                                                             const std::string& stderr_path) {
  absl::StatusOr<int> out_fd = OpenForOutput(stdout_path, O_TRUNC);
  if (!out_fd.ok()) return out_fd.status();
  absl::Cleanup close_out = [fd = *out_fd] { close(fd); };
  absl::StatusOr<int> err_fd = OpenForOutput(stderr_path, O_TRUNC);
  if (!err_fd.ok()) return err_fd.status();
  absl::Cleanup close_err = [fd = *err_fd] { close(fd); };
  return Spawn(argv, *out_fd, *err_fd, stderr_path);
}

absl::StatusOr<std::unique_ptr<Process>> Process::Spawn(const std::vector<std::string>& argv,
                                                        int stdout_fd, int stderr_fd,
                                                        const std::string& log_path) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  if (access(argv[0].c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(argv[0], " is not an executable file"));
  }
  // Everything the child needs is prepared before fork: after fork only async-signal-safe calls
  // are allowed, because other threads of the test may hold the allocator's locks.
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int error = errno;
    if (null_fd >= 0) close(null_fd);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(error)));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    dup2(stdout_fd, STDOUT_FILENO);
    dup2(stderr_fd, STDERR_FILENO);
    execv(c_argv[0], c_argv.data());
    _exit(127);
  }
  if (null_fd >= 0) close(null_fd);
  return std::unique_ptr<Process>(new Process(pid, log_path));
}

Process::~Process() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

bool Process::running() {
  if (reaped_) return false;
  int status = 0;
  pid_t result = waitpid(pid_, &status, WNOHANG);
  if (result == pid_) {
    reaped_ = true;
    wait_status_ = status;
    return false;
  }
  return result == 0;
}

absl::StatusOr<int> Process::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (running()) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("pid ", pid_, " still running after ", absl::FormatDuration(timeout)));
    }
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(kPollInterval));
  }
  return wait_status_;
}

absl::Status Process::Signal(int signal, absl::Duration timeout) {
  if (!reaped_ && kill(pid_, signal) != 0 && errno != ESRCH) {
    return absl::InternalError(absl::StrCat("kill ", pid_, ": ", std::strerror(errno)));
  }
  return Wait(timeout).status();
}

absl::Status Process::Kill() { return Signal(SIGKILL, absl::Seconds(10)); }

absl::Status Process::Stop(absl::Duration timeout) {
  if (Signal(SIGTERM, timeout).ok()) return absl::OkStatus();
  return Kill();
}

std::string Process::LogTail(size_t max_bytes) const {
  std::string log = ReadFileOrEmpty(log_path_);
  if (log.size() > max_bytes) log = "..." + log.substr(log.size() - max_bytes);
  return log;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& scratch_path, absl::Duration timeout) {
  const std::string out_path = scratch_path + ".out";
  const std::string err_path = scratch_path + ".err";
  absl::StatusOr<std::unique_ptr<Process>> process = Process::StartSplit(argv, out_path, err_path);
  if (!process.ok()) return process.status();
  absl::StatusOr<int> status = (*process)->Wait(timeout);
  if (!status.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat(absl::StrJoin(argv, " "), ": ", status.status().message()));
  }
  CommandResult result;
  result.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  result.out = ReadFileOrEmpty(out_path);
  result.err = ReadFileOrEmpty(err_path);
  return result;
}

}  // namespace kura::integration
