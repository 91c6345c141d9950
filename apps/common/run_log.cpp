#include "run_log.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "rstx/service/log.hpp"

namespace rstx::cli {

struct run_log::impl {
  service::logger log;
  std::string operation;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  bool on = false;
};

run_log::run_log(char const* program, std::string operation) : impl_(std::make_unique<impl>()) {
  impl_->operation = std::move(operation);
  char const* file = std::getenv("RST_LOG_FILE");
  if (file == nullptr || *file == '\0') return;
  char const* level = std::getenv("RST_LOG_LEVEL");
  std::string l = level != nullptr ? level : "info";
  for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto r = impl_->log.open(file, service::parse_log_level(l)); !r) {
    std::fprintf(stderr, "%s: RST_LOG_FILE: %s\n", program, r.error().message().c_str());
    return;
  }
  impl_->on = true;
}

run_log::~run_log() = default;

void run_log::started(std::string const& file) {
  if (impl_->on) impl_->log.info("started", {{"operation", impl_->operation}, {"file", file}});
}

void run_log::completed(std::string const& file, std::int64_t records, std::int64_t bytes) {
  if (!impl_->on) return;
  auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - impl_->t0).count();
  impl_->log.info("completed", {{"operation", impl_->operation}, {"file", file}, {"records", records}, {"bytes", bytes}, {"duration_ms", ms}});
}

void run_log::failed(std::string const& file, std::string const& error) {
  if (!impl_->on) return;
  auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - impl_->t0).count();
  impl_->log.error("failed", {{"operation", impl_->operation}, {"file", file}, {"error", error}, {"duration_ms", ms}});
}

}  // namespace rstx::cli
