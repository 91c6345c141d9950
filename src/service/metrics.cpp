#include "rstx/service/metrics.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <dirent.h>
#include <fstream>
#include <mutex>
#include <sstream>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>
#include <httplib.h>

namespace rstx::service {

void seconds_histogram::observe(double seconds) noexcept {
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i]) ++i;
  counts_[i].fetch_add(1);
  double old = sum_.load();
  while (!sum_.compare_exchange_weak(old, old + seconds)) {
  }
}

std::array<std::int64_t, seconds_histogram::bounds.size() + 1> seconds_histogram::cumulative() const noexcept {
  std::array<std::int64_t, bounds.size() + 1> out{};
  std::int64_t running = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    running += counts_[i].load();
    out[i] = running;
  }
  return out;
}

namespace {

std::string number(double v) {
  auto s = fmt::format("{}", v);
  return s;
}

std::string escape_label(std::string const& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

/** process_* metrics from /proc/self, as the Prometheus client libraries define them. */
void process_metrics(std::string& out) {
  long const ticks = ::sysconf(_SC_CLK_TCK);
  long const page = ::sysconf(_SC_PAGESIZE);
  std::ifstream stat("/proc/self/stat");
  std::string line;
  std::getline(stat, line);
  auto const close = line.rfind(')');
  if (close != std::string::npos && ticks > 0) {
    std::istringstream rest(line.substr(close + 2));
    std::vector<std::string> f;
    for (std::string w; rest >> w;) f.push_back(w);
    // Fields after the name, from field 3 (state) on: utime is 14, stime 15, starttime 22, rss 24.
    auto field = [&](int n) { return std::stod(f.at(static_cast<std::size_t>(n - 3))); };
    double const cpu = (field(14) + field(15)) / static_cast<double>(ticks);
    double btime = 0;
    std::ifstream ps("/proc/stat");
    for (std::string l; std::getline(ps, l);)
      if (l.rfind("btime ", 0) == 0) btime = std::stod(l.substr(6));
    out += fmt::format("# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
                       "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n",
                       number(cpu));
    out += fmt::format("# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                       "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}\n",
                       static_cast<std::int64_t>(field(24)) * page);
    out += fmt::format("# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
                       "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {}\n",
                       number(btime + field(22) / static_cast<double>(ticks)));
  }
  std::int64_t fds = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (auto* e = ::readdir(d))
      if (e->d_name[0] != '.') ++fds;
    ::closedir(d);
    --fds;  // the listing's own descriptor
  }
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  out += fmt::format("# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds {}\n", fds);
  out += fmt::format("# HELP process_max_fds Maximum number of open file descriptors.\n# TYPE process_max_fds gauge\nprocess_max_fds {}\n",
                     static_cast<std::int64_t>(lim.rlim_cur));
}

}  // namespace

std::string render_metrics(metrics_snapshot const& s) {
  std::string out;
  out += "# HELP rst_files_processed_total Files processed, by operation and outcome.\n# TYPE rst_files_processed_total counter\n";
  for (auto const& op : s.operations)
    for (auto [status, n] : {std::pair{"ok", op.ok}, std::pair{"failed", op.failed}, std::pair{"quarantined", op.quarantined}})
      out += fmt::format("rst_files_processed_total{{operation=\"{}\",status=\"{}\"}} {}\n", op.name, status, n);
  out += "# HELP rst_processing_seconds Time to process one file (make_fit) or one daily grid (make_grid).\n# TYPE rst_processing_seconds histogram\n";
  for (auto const& op : s.operations) {
    if (op.seconds == nullptr) continue;
    auto const c = op.seconds->cumulative();
    for (std::size_t i = 0; i < seconds_histogram::bounds.size(); ++i)
      out += fmt::format("rst_processing_seconds_bucket{{operation=\"{}\",le=\"{}\"}} {}\n", op.name, number(seconds_histogram::bounds[i]), c[i]);
    out += fmt::format("rst_processing_seconds_bucket{{operation=\"{}\",le=\"+Inf\"}} {}\n", op.name, c.back());
    out += fmt::format("rst_processing_seconds_sum{{operation=\"{}\"}} {}\n", op.name, number(op.seconds->sum()));
    out += fmt::format("rst_processing_seconds_count{{operation=\"{}\"}} {}\n", op.name, c.back());
  }
  out += "# HELP rst_records_processed_total Records written: fitacf records (make_fit), grid records (make_grid).\n# TYPE rst_records_processed_total counter\n";
  for (auto const& op : s.operations) out += fmt::format("rst_records_processed_total{{operation=\"{}\"}} {}\n", op.name, op.records);
  out += fmt::format("# HELP rst_bytes_read_total Input bytes of the files processed.\n# TYPE rst_bytes_read_total counter\nrst_bytes_read_total {}\n", s.bytes_read);
  out += fmt::format("# HELP rst_bytes_written_total Bytes of the products written.\n# TYPE rst_bytes_written_total counter\nrst_bytes_written_total {}\n", s.bytes_written);
  out += fmt::format("# HELP rst_queue_depth Files held in memory waiting for a worker.\n# TYPE rst_queue_depth gauge\nrst_queue_depth {}\n", s.queue_depth);
  out += fmt::format("# HELP rst_files_in_progress Files and grids being processed now.\n# TYPE rst_files_in_progress gauge\nrst_files_in_progress {}\n", s.in_progress);
  out += "# HELP rst_ledger_files Input files in the ledger, by state.\n# TYPE rst_ledger_files gauge\n";
  for (auto const& [state, n] : s.ledger_files) out += fmt::format("rst_ledger_files{{state=\"{}\"}} {}\n", state, n);
  out += "# HELP rst_last_success_timestamp_seconds When the last file (make_fit) or grid (make_grid) succeeded, 0 before the first.\n# TYPE rst_last_success_timestamp_seconds gauge\n";
  for (auto const& op : s.operations) out += fmt::format("rst_last_success_timestamp_seconds{{operation=\"{}\"}} {}\n", op.name, number(op.last_success));
  out += fmt::format("# HELP rst_cuda_available 1 when rstx's probe found a usable CUDA device.\n# TYPE rst_cuda_available gauge\nrst_cuda_available {}\n", s.cuda_available ? 1 : 0);
  out += fmt::format("# HELP rst_build_info The running build of rstx.\n# TYPE rst_build_info gauge\nrst_build_info{{version=\"{}\",revision=\"{}\",backend=\"{}\"}} 1\n",
                     escape_label(s.version), escape_label(s.revision), escape_label(s.backend));
  process_metrics(out);
  return out;
}

namespace {

/** httplib's task queue with a fixed number of threads and a bounded queue: when it is full, the
 *  accepting thread waits, so idle or slow clients cost at most `threads + capacity` sockets. */
class bounded_pool final : public httplib::TaskQueue {
 public:
  bounded_pool(std::size_t threads, std::size_t capacity) : capacity_(capacity) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
  }
  ~bounded_pool() override { shutdown(); }
  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return jobs_.size() < capacity_ || stopping_; });
    if (stopping_) return;
    jobs_.push_back(std::move(fn));
    ready_.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ && threads_.empty()) return;
      stopping_ = true;
    }
    ready_.notify_all();
    space_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, nothing left
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        space_.notify_one();
      }
      fn();
    }
  }
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

}  // namespace

struct http_server::impl {
  httplib::Server server;
  std::thread thread;
};

http_server::http_server() : impl_(std::make_unique<impl>()) {
  auto& s = impl_->server;
  // A scraper sends its request at once: a client silent for a second gives its thread back, so a
  // flood of idle connections delays the endpoint by (connections / threads) seconds at most.
  s.new_task_queue = [] { return new bounded_pool(8, 64); };
  s.set_read_timeout(1, 0);
  s.set_write_timeout(5, 0);
  s.set_keep_alive_max_count(20);
  s.set_keep_alive_timeout(5);
  s.set_payload_max_length(8192);
}

http_server::~http_server() { stop(); }

void http_server::on(std::string const& path, handler h) {
  impl_->server.Get(path, [h = std::move(h)](httplib::Request const&, httplib::Response& res) {
    auto r = h();
    res.status = r.status;
    res.set_content(r.body, r.content_type.c_str());
  });
}

result<std::string> http_server::start(std::string const& address) {
  auto const colon = address.rfind(':');
  if (colon == std::string::npos)
    return unexpected(error(errc::invalid_argument, fmt::format("metrics address \"{}\": expected HOST:PORT", address)));
  auto const host = address.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (std::exception const&) {
    return unexpected(error(errc::invalid_argument, fmt::format("metrics address \"{}\": bad port", address)));
  }
  auto& s = impl_->server;
  int bound = port;
  if (port == 0) {
    bound = s.bind_to_any_port(host.c_str());
    if (bound <= 0) return unexpected(error(errc::io, fmt::format("cannot listen on {}:", host)));
  } else if (!s.bind_to_port(host.c_str(), port)) {
    return unexpected(error(errc::io, fmt::format("cannot listen on {} (in use, or not an address of this machine)", address)));
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  return fmt::format("{}:{}", host, bound);
}

void http_server::stop() {
  if (impl_->thread.joinable()) {
    impl_->server.stop();
    impl_->thread.join();
  }
}

}  // namespace rstx::service
