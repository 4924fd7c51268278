#include "cmd/kura/drain.h"

#include <pthread.h>
#include <signal.h>

#include <string>

#include "base/log.h"
#include "cmd/kura/http_server.h"

namespace kura::cmd {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set = TerminationSignals();
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {
  }
  return signal;
}

void BeginDrain(int signal, HttpServer* server, absl::Duration delay) {
  server->SetReady(false);
  base::LogInfo("draining",
                {{"signal", std::to_string(signal)}, {"delay", absl::FormatDuration(delay)}});
  absl::SleepFor(delay);
}

}  // namespace kura::cmd
