#include "rstx/service/job.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli.hpp"  // make_grid's command-line parser (apps/make_grid): the grid options are its flags
#include "rstx/cuda/fitacf3.hpp"
#include "rstx/dmap/products.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"
#include "rstx/fit/exec.hpp"
#include "rstx/fit/stream.hpp"
#include "rstx/grid/make_grid.hpp"
#include "rstx/radar/hardware.hpp"
#include "rstx/service/naming.hpp"
#include "rstx/tables/tables.hpp"

namespace rstx::service {

using nlohmann::json;

namespace {

// The program a job runs: this executable. /proc/self/exe is tried first (it is right even after a
// package upgrade replaced the file); this path, from argv[0], serves where /proc is not mounted.
std::string job_executable_fallback;  // NOLINT: set once by main before any job starts

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

json failure(failure_kind kind, error const& e) {
  return json{{"ok", false},
              {"kind", kind == failure_kind::permanent ? "permanent" : "transient"},
              {"code", std::string(to_string(e.code))},
              {"message", e.message()},
              {"what", e.what},
              {"source", e.source},
              {"record", e.record},
              {"offset", e.offset},
              {"os_error", e.os_error}};
}

/** I/O problems are the system's; everything else the input's. */
failure_kind kind_of(error const& e) {
  return e.code == errc::io || e.code == errc::internal ? failure_kind::transient : failure_kind::permanent;
}

std::optional<std::int64_t> source_date_epoch() {
  char const* v = std::getenv("SOURCE_DATE_EPOCH");
  if (v == nullptr || *v == '\0') return std::nullopt;
  char* end = nullptr;
  long long const t = std::strtoll(v, &end, 10);
  if (*end != '\0' || t < 0) return std::nullopt;
  return t;
}

result<tables::table_set> find_tables(std::string const& dir, bool need_geo) {
  tables::request want;
  want.tables_dir = dir;
  want.need_geo = need_geo;
  return tables::locate(want);
}

json fit_job(json const& rq) {
  auto const input = rq.at("input").get<std::string>();
  auto const out_dir = std::filesystem::path(rq.at("out_dir").get<std::string>());
  bool const bz2 = rq.value("compress", "none") == "bz2";
  auto const t0 = std::chrono::steady_clock::now();

  // The tables are the system's: when they cannot be read the file is retried later.
  auto found = find_tables(rq.value("tables", ""), false);
  if (!found) return failure(failure_kind::transient, found.error());
  auto radars = radar::radar_table::load(found->radar_dat.path);
  if (!radars) return failure(failure_kind::transient, radars.error());

  dmap::reader_options ropt;
  ropt.recover = true;  // as make_fit: a damaged record is skipped, the rest kept
  int const threads = rq.value("threads", 1);
  // Identify the file by its first record: rawacf, which station, when, which channel.
  dmap::radar_parms first;
  {
    auto peek = dmap::reader::open(input, ropt);
    if (!peek) return failure(kind_of(peek.error()), peek.error());
    dmap::record r;
    auto got = peek->next(r);
    if (!got) return failure(kind_of(got.error()), got.error());
    if (!*got) {
      struct stat st{};
      bool const empty = ::stat(input.c_str(), &st) == 0 && st.st_size == 0;
      if (empty) return failure(failure_kind::permanent, error(errc::truncated, "the file is empty").at(input));
      // A first record cut short is named as such; anything else is not DMAP data.
      auto skipped = peek->take_skipped();
      if (!skipped.empty() && skipped.front().reason.code == errc::truncated) {
        auto e = std::move(skipped.front().reason).at(input, 0).at_offset(skipped.front().offset);
        e.what = fmt::format("no complete DMAP record in the file: {}", e.what);
        return failure(failure_kind::permanent, e);
      }
      return failure(failure_kind::permanent,
                     error(errc::bad_header, "no DMAP record in the file (not DMAP data, or damaged throughout)").at(input));
    }
    auto const kind = dmap::detect_product(r);
    if (kind != dmap::product::rawacf)
      return failure(failure_kind::permanent,
                     error(errc::wrong_type, fmt::format("the first record is {}, not rawacf", kind == dmap::product::unknown ? "not a SuperDARN product" : fmt::format("a {} record", to_string(kind))))
                         .at(input, 0).at_offset(peek->last_record_offset()));
    auto parms = dmap::decode_radar_parms(r, dmap::strictness::lenient);
    if (!parms) return failure(failure_kind::permanent, std::move(parms.error()).at(input, 0));
    first = *parms;
  }
  auto const* radar = radars->find(first.stid);
  if (radar == nullptr || radar->codes.empty())
    return failure(failure_kind::permanent,
                   error(errc::not_found, fmt::format("unknown station id {} (not in {})", first.stid, found->radar_dat.path)).at(input, 0));

  file_key key;
  if (rq.contains("name_key")) {
    auto const& k = rq["name_key"];
    key = file_key{k.at("day"), k.at("time"), k.at("radar"), k.at("channel")};
  } else {
    key = key_from_content(radar->codes.front(), first.channel, first.epoch());
  }
  auto const output = out_dir / fitacf_name(key, bz2);

  ropt.threads = threads;  // the peek above reads one record: no decoding threads for that
  auto in = dmap::reader::open(input, ropt);
  if (!in) return failure(kind_of(in.error()), in.error());
  auto out = dmap::writer::create(output.string(),
                                  {.comp = bz2 ? dmap::compression::bzip2 : dmap::compression::none, .threads = threads});
  if (!out) return failure(kind_of(out.error()), out.error());

  fit::stream_options sopt;
  sopt.run.algorithm = rq.value("algorithm", "fitacf3") == "fitacf2" ? fit::fit_algorithm::fitacf25 : fit::fit_algorithm::fitacf3;
  sopt.run.hdw_dir = found->hdw_dir.path;
  sopt.run.tdiff_dir = found->tdiff_dir.path;
  sopt.command = fmt::format("make_fit -{} {}", sopt.run.algorithm == fit::fit_algorithm::fitacf3 ? "fitacf3" : "fitacf2",
                             std::filesystem::path(input).filename().string());
  sopt.command.resize(std::min<std::size_t>(sopt.command.size(), 127));
  sopt.origin_time = source_date_epoch();
  json skipped = json::array();
  fit::stream_callbacks cb;
  cb.skipped = [&](error const& e) {
    if (skipped.size() < 100) skipped.push_back(e.message());
  };
  // FITACF 3.0 on a GPU when configured: "cuda" without a usable one is the machine's problem, so
  // the file is retried later; "auto" falls back to the CPU.
  std::unique_ptr<cuda::fitacf3_device> device;
  if (auto const backend = rq.value("backend", "cpu"); backend != "cpu" && sopt.run.algorithm == fit::fit_algorithm::fitacf3) {
    auto opened = cuda::open_fitacf3({.device = rq.value("device", 0)});
    if (opened) device = std::move(*opened);
    else if (backend == "cuda")
      return failure(failure_kind::transient, error(errc::cuda, "backend cuda: " + opened.error().what));
  }
  if (device) sopt.chunk_records = 1024;
  fit::thread_pool pool(threads);
  auto const ctx = device ? fit::exec_context::cuda(device.get(), &pool) : fit::exec_context::cpu(&pool);
  auto summary = fit::fit_stream(*in, *out, *radars, sopt, ctx, cb);
  if (!summary) {
    auto e = summary.error();
    // An unknown hardware file for a known station is a table problem, not the file's.
    bool const table_missing = e.code == errc::not_found && e.os_error != 0;
    return failure(table_missing ? failure_kind::transient : kind_of(e), e);
  }
  if (auto c = out->commit(); !c) return failure(kind_of(c.error()), c.error());
  double const fit_seconds = seconds_since(t0);
  struct stat st{};
  std::int64_t out_size = ::stat(output.c_str(), &st) == 0 ? st.st_size : 0;
  auto out_sha = sha256_file(output);
  if (!out_sha) return failure(failure_kind::transient, out_sha.error());
  std::int64_t in_size = ::stat(input.c_str(), &st) == 0 ? st.st_size : 0;
  return json{{"ok", true},
              {"output", output.string()},
              {"output_size", out_size},
              {"output_sha256", *out_sha},
              {"grid_key", key.grid_key()},
              {"stid", first.stid},
              {"records_in", summary->records_in},
              {"records_out", summary->records_out},
              {"records_skipped", summary->records_skipped},
              {"skipped", skipped},
              {"bytes_read", in_size},
              {"seconds", fit_seconds}};
}

std::vector<std::string> split_words(std::string const& s) {
  std::istringstream is(s);
  std::vector<std::string> words;
  for (std::string w; is >> w;) words.push_back(w);
  return words;
}

json grid_job(json const& rq) {
  auto const t0 = std::chrono::steady_clock::now();
  auto const output = rq.at("output").get<std::string>();
  auto args = split_words(rq.value("grid_options", "-xtd"));
  auto const inputs = rq.at("inputs").get<std::vector<std::string>>();
  if (rq.value("threads", 1) > 0) {
    args.emplace_back("--threads");
    args.push_back(std::to_string(rq.value("threads", 1)));
  }
  if (!rq.value("tables", std::string()).empty()) {
    args.emplace_back("--tables");
    args.push_back(rq.value("tables", std::string()));
  }
  args.emplace_back("--");
  args.insert(args.end(), inputs.begin(), inputs.end());
  auto parsed = make_grid_cli::parse_command_line(args);
  if (!parsed) return failure(failure_kind::permanent, parsed.error());
  auto want = parsed->tables;
  want.need_geo = true;
  auto found = tables::locate(want);
  if (!found) return failure(failure_kind::transient, found.error());
  grid::table_paths const paths{found->radar_dat.path, found->hdw_dir.path, found->aacgm_prefix.path, found->igrf_dir.path};
  auto out = dmap::writer::create(output, {.comp = dmap::compression_for_path(output), .threads = rq.value("threads", 1)});
  if (!out) return failure(kind_of(out.error()), out.error());
  std::int64_t bytes_read = 0;
  for (auto const& f : inputs) {
    struct stat st{};
    if (::stat(f.c_str(), &st) == 0) bytes_read += st.st_size;
  }
  grid::run_callbacks cb;
  cb.write = [&](dmap::record const& r) { return out->write(r); };
  auto summary = grid::make_grid(parsed->inputs, parsed->run, paths, cb);
  if (!summary) return failure(kind_of(summary.error()), summary.error());
  if (auto c = out->commit(); !c) return failure(kind_of(c.error()), c.error());
  struct stat st{};
  std::int64_t out_size = ::stat(output.c_str(), &st) == 0 ? st.st_size : 0;
  auto out_sha = sha256_file(output);
  if (!out_sha) return failure(failure_kind::transient, out_sha.error());
  return json{{"ok", true},
              {"output", output},
              {"output_size", out_size},
              {"output_sha256", *out_sha},
              {"records_in", summary->records_read},
              {"records_out", summary->grid_records},
              {"bytes_read", bytes_read},
              {"seconds", seconds_since(t0)}};
}

}  // namespace

json run_job(json const& request) {
  try {
    auto const op = request.value("op", "");
    if (op == "fit") return fit_job(request);
    if (op == "grid") return grid_job(request);
    return failure(failure_kind::permanent, error(errc::invalid_argument, fmt::format("unknown job \"{}\"", op)));
  } catch (std::bad_alloc const&) {
    return failure(failure_kind::transient, error(errc::internal, "out of memory"));
  } catch (std::exception const& e) {
    return failure(failure_kind::transient, error(errc::internal, fmt::format("job failed: {}", e.what())));
  }
}

void set_job_executable(std::string path) { job_executable_fallback = std::move(path); }

std::optional<job_failure> job_failed(json const& r) {
  if (r.value("ok", false)) return std::nullopt;
  job_failure f;
  f.kind = r.value("kind", "transient") == "permanent" ? failure_kind::permanent : failure_kind::transient;
  f.reason.code = errc::internal;
  auto const code = r.value("code", "internal");
  for (int c = 0; c <= static_cast<int>(errc::internal); ++c)
    if (to_string(static_cast<errc>(c)) == code) f.reason.code = static_cast<errc>(c);
  f.reason.what = r.value("what", r.value("message", "the job failed"));
  f.reason.source = r.value("source", "");
  f.reason.record = r.value("record", std::int64_t{-1});
  f.reason.offset = r.value("offset", std::int64_t{-1});
  f.reason.os_error = r.value("os_error", 0);
  int const e = f.reason.os_error;
  f.disk_full = e == ENOSPC || e == EDQUOT || e == EFBIG;
  return f;
}

namespace {

json spawn_failure(std::string what) { return failure(failure_kind::transient, error(errc::internal, std::move(what))); }

void close_pipe(int fds[2]) {
  for (int i = 0; i < 2; ++i)
    if (fds[i] >= 0) ::close(fds[i]);
}

}  // namespace

json run_job_in_child(json const& request, double timeout_s, std::atomic<bool> const* abort) {
  auto const payload = request.dump();
  int to_child[2] = {-1, -1};
  int from_child[2] = {-1, -1};
  if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
    int const e = errno;
    close_pipe(to_child);
    close_pipe(from_child);
    return failure(failure_kind::transient, os_failure("cannot create a pipe for a job", e));
  }
  char const* fallback = job_executable_fallback.empty() ? nullptr : job_executable_fallback.c_str();
  char arg0[] = "rst-processor";
  char arg1[] = "_job";
  char* argv[] = {arg0, arg1, nullptr};
  pid_t const parent = ::getpid();
  pid_t const pid = ::fork();
  if (pid < 0) {
    int const e = errno;
    close_pipe(to_child);
    close_pipe(from_child);
    return failure(failure_kind::transient, os_failure("cannot start a job process", e));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. Dies with the service (kill -9 included).
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the service blocks its signals for signalfd
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(to_child[0], STDIN_FILENO);
    ::dup2(from_child[1], STDOUT_FILENO);
    ::execv("/proc/self/exe", argv);
    if (fallback != nullptr) ::execv(fallback, argv);
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(to_child[0]);
  ::close(from_child[1]);
  // The request is small (well under a pipe's buffer): write it whole, then end the child's input.
  std::size_t written = 0;
  while (written < payload.size()) {
    ssize_t const n = ::write(to_child[1], payload.data() + written, payload.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  ::close(to_child[1]);

  std::string reply;
  auto const deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  bool timed_out = false, aborted = false;
  char buf[65536];
  for (;;) {
    if (abort != nullptr && abort->load()) {
      aborted = true;
      break;
    }
    auto const left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{from_child[0], POLLIN, 0};
    int const rc = ::poll(&p, 1, static_cast<int>(std::min(left * 1000.0 + 1, 200.0)));
    if (rc < 0 && errno != EINTR) break;
    if (rc <= 0) continue;
    ssize_t const n = ::read(from_child[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (reply.size() < (16U << 20)) reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(from_child[0]);
  if (timed_out || aborted) ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return spawn_failure(fmt::format("the job took longer than {} s and was stopped", timeout_s));
  if (aborted) return spawn_failure("the job was abandoned (shutdown)");
  if (WIFSIGNALED(status))
    return spawn_failure(fmt::format("the job process ended with signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status))));
  try {
    auto j = json::parse(reply);
    if (j.is_object() && j.contains("ok")) return j;
  } catch (json::exception const&) {
  }
  return spawn_failure(fmt::format("the job process exited with status {} without a result", WIFEXITED(status) ? WEXITSTATUS(status) : -1));
}

}  // namespace rstx::service
