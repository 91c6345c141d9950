#include "signals.hpp"

#include <csignal>

#include "rstx/dmap/writer.hpp"

namespace rstx::cli {

namespace {

extern "C" void remove_temporaries_and_end(int sig) {
  dmap::remove_uncommitted_temporaries();
  // The default action again, so that the exit status tells which signal ended the process.
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

void remove_temporaries_on_signals() noexcept {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old{};
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    struct sigaction act{};
    act.sa_handler = remove_temporaries_and_end;
    sigemptyset(&act.sa_mask);
    ::sigaction(sig, &act, nullptr);
  }
}

}  // namespace rstx::cli
