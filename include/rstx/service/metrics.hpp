#pragma once
/**
 * @file
 * What rst-processor publishes over HTTP (docs/service.md, "Metrics and health"): Prometheus text
 * exposition (format 0.0.4) of its counters, histograms and gauges, the standard process metrics,
 * and the server that answers /metrics, /healthz and /readyz on a pool of a few threads with a
 * bounded queue, so that slow or idle clients never touch the processing threads or grow memory.
 */
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rstx/core/error.hpp"

namespace rstx::service {

/** A Prometheus histogram of seconds, buckets from 10 ms to 10 min. Lock-free. */
class seconds_histogram {
 public:
  static constexpr std::array<double, 15> bounds = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  void observe(double seconds) noexcept;
  /** Cumulative counts per bound, then the +Inf count (= total), and the sum. */
  [[nodiscard]] std::array<std::int64_t, bounds.size() + 1> cumulative() const noexcept;
  [[nodiscard]] double sum() const noexcept { return sum_.load(); }

 private:
  std::array<std::atomic<std::int64_t>, bounds.size() + 1> counts_{};
  std::atomic<double> sum_{0};
};

/** One scrape's worth of state gathered by the service. */
struct metrics_snapshot {
  struct operation {
    std::string name;  ///< make_fit, make_grid
    std::int64_t ok = 0, failed = 0, quarantined = 0;
    std::int64_t records = 0;
    double last_success = 0;
    seconds_histogram const* seconds = nullptr;
  };
  std::vector<operation> operations;
  std::int64_t bytes_read = 0, bytes_written = 0;
  std::int64_t queue_depth = 0, in_progress = 0;
  std::vector<std::pair<std::string, std::int64_t>> ledger_files;  ///< per state
  bool cuda_available = false;
  std::string version, revision, backend;
};

/** The exposition text: the snapshot plus process_* metrics read from /proc/self. */
[[nodiscard]] std::string render_metrics(metrics_snapshot const& s);

/** An HTTP endpoint's answer. */
struct http_reply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/** Serves GET requests on one address from a small bounded pool of threads. */
class http_server {
 public:
  using handler = std::function<http_reply()>;
  http_server();
  ~http_server();
  http_server(http_server const&) = delete;
  http_server& operator=(http_server const&) = delete;

  void on(std::string const& path, handler h);
  /** Binds "HOST:PORT" (port 0: any free port) and starts serving; returns the bound "HOST:PORT". */
  [[nodiscard]] result<std::string> start(std::string const& address);
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace rstx::service
