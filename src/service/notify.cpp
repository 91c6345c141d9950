#include "rstx/service/notify.hpp"

#include <cstdint>
#include <cstdlib>

#include <systemd/sd-daemon.h>

namespace rstx::service {

systemd_notifier::systemd_notifier() {
  char const* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_ = static_cast<double>(usec) / 1e6;
}

void systemd_notifier::ready(std::string const& status) {
  if (!enabled_) return;
  last_status_ = status;
  sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

void systemd_notifier::status(std::string const& text) {
  if (!enabled_ || text == last_status_) return;
  last_status_ = text;
  sd_notify(0, ("STATUS=" + text).c_str());
}

void systemd_notifier::watchdog() {
  if (enabled_) sd_notify(0, "WATCHDOG=1");
}

void systemd_notifier::stopping(std::string const& status) {
  if (!enabled_) return;
  last_status_ = status;
  sd_notify(0, ("STOPPING=1\nSTATUS=" + status).c_str());
}

}  // namespace rstx::service
