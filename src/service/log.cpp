#include "rstx/service/log.hpp"

#include <cerrno>
#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace rstx::service {

log_level parse_log_level(std::string const& s) noexcept {
  if (s == "debug") return log_level::debug;
  if (s == "warn" || s == "warning") return log_level::warn;
  if (s == "error") return log_level::error;
  return log_level::info;
}

logger::~logger() {
  if (file_ != nullptr) std::fclose(file_);
}

result<void> logger::open(std::filesystem::path const& file, log_level level) {
  std::lock_guard lock(mutex_);
  level_ = level;
  if (file == path_ && (file_ != nullptr || file.empty())) return {};
  std::FILE* f = nullptr;
  if (!file.empty()) {
    f = std::fopen(file.c_str(), "ae");
    if (f == nullptr) return unexpected(os_failure("cannot open the log file", errno).at(file.string()));
  }
  if (file_ != nullptr) std::fclose(file_);
  file_ = f;
  path_ = file;
  return {};
}

result<void> logger::reopen() {
  std::lock_guard lock(mutex_);
  if (path_.empty()) return {};
  std::FILE* f = std::fopen(path_.c_str(), "ae");
  if (f == nullptr) return unexpected(os_failure("cannot reopen the log file", errno).at(path_.string()));
  if (file_ != nullptr) std::fclose(file_);
  file_ = f;
  return {};
}

void logger::write(log_level l, std::string const& event, nlohmann::json fields) {
  if (l < level_) return;
  static constexpr char const* names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  auto const now = std::chrono::system_clock::now();
  auto const secs = std::chrono::system_clock::to_time_t(now);
  auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  nlohmann::json line = {{"ts", fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                                              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms))},
                         {"level", names[static_cast<int>(l)]},
                         {"event", event}};
  if (fields.is_object())
    for (auto& [k, v] : fields.items()) line[k] = std::move(v);
  auto const text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard lock(mutex_);
  std::FILE* f = file_ != nullptr ? file_ : stderr;
  std::fwrite(text.data(), 1, text.size(), f);
  std::fflush(f);
}

}  // namespace rstx::service
