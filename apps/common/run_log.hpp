#pragma once
// The operations guide's structured log for make_fit and make_grid: when RST_LOG_FILE is set, one
// JSON line per run event (started, completed, failed) is appended to it, at RST_LOG_LEVEL
// (DEBUG, INFO, WARN, ERROR; default INFO). Without RST_LOG_FILE nothing changes: messages go to
// standard error as RST's do.
#include <cstdint>
#include <memory>
#include <string>

namespace rstx::cli {

#ifdef RSTX_HAVE_RUN_LOG
class run_log {
 public:
  /** Opens RST_LOG_FILE when set (a file that cannot be opened is reported on stderr, once). */
  run_log(char const* program, std::string operation);
  ~run_log();
  void started(std::string const& file);
  void completed(std::string const& file, std::int64_t records, std::int64_t bytes);
  void failed(std::string const& file, std::string const& error);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};
#else
/** A build without the service libraries (a bare CUDA machine): no structured log. */
class run_log {
 public:
  run_log(char const*, std::string) {}
  void started(std::string const&) {}
  void completed(std::string const&, std::int64_t, std::int64_t) {}
  void failed(std::string const&, std::string const&) {}
};
#endif

}  // namespace rstx::cli
