#pragma once
/**
 * @file
 * systemd's notification protocol for `Type=notify` services (libsystemd's sd_notify): READY=1 once
 * the service works, STATUS= one-line summaries (what `systemctl status` shows), WATCHDOG=1 pings
 * while the service makes progress (WatchdogSec=), STOPPING=1 on drain. Without NOTIFY_SOCKET
 * (not run by systemd) every call does nothing.
 */
#include <optional>
#include <string>

namespace rstx::service {

class systemd_notifier {
 public:
  systemd_notifier();
  /** Whether systemd listens (NOTIFY_SOCKET is set). */
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }
  /** The watchdog period systemd expects pings within (WATCHDOG_USEC), when it has one. */
  [[nodiscard]] std::optional<double> watchdog_seconds() const noexcept { return watchdog_; }
  void ready(std::string const& status);
  /** Sends STATUS= when the text changed since the last one sent. */
  void status(std::string const& text);
  void watchdog();
  void stopping(std::string const& status);

 private:
  bool enabled_ = false;
  std::optional<double> watchdog_;
  std::string last_status_;
};

}  // namespace rstx::service
