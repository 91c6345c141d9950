#pragma once
/**
 * @file
 * The service's log: one JSON object per line ({"time", "level", "event", ...fields}), to standard
 * error or a file that SIGHUP reopens (logrotate's way). Thread-safe.
 */
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "rstx/core/error.hpp"

namespace rstx::service {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };
[[nodiscard]] log_level parse_log_level(std::string const& s) noexcept;

class logger {
 public:
  logger() = default;
  ~logger();
  logger(logger const&) = delete;
  logger& operator=(logger const&) = delete;

  /** Logs to `file` (appending), or standard error when empty. */
  [[nodiscard]] result<void> open(std::filesystem::path const& file, log_level level);
  /** Reopens the same file (after logrotate moved it). */
  [[nodiscard]] result<void> reopen();
  void set_level(log_level l) noexcept { level_ = l; }

  void write(log_level l, std::string const& event, nlohmann::json fields = nlohmann::json::object());
  void debug(std::string const& event, nlohmann::json fields = nlohmann::json::object()) { write(log_level::debug, event, std::move(fields)); }
  void info(std::string const& event, nlohmann::json fields = nlohmann::json::object()) { write(log_level::info, event, std::move(fields)); }
  void warn(std::string const& event, nlohmann::json fields = nlohmann::json::object()) { write(log_level::warn, event, std::move(fields)); }
  void error(std::string const& event, nlohmann::json fields = nlohmann::json::object()) { write(log_level::error, event, std::move(fields)); }

 private:
  std::mutex mutex_;
  std::FILE* file_ = nullptr;  // nullptr: stderr
  std::filesystem::path path_;
  log_level level_ = log_level::info;
};

}  // namespace rstx::service
