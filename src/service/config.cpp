#include "rstx/service/config.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace rstx::service {

char const* to_string(input_disposal d) noexcept {
  switch (d) {
    case input_disposal::archive: return "archive";
    case input_disposal::keep: return "keep";
    case input_disposal::remove: return "delete";
  }
  return "?";
}

char const* to_string(product_compression c) noexcept { return c == product_compression::bz2 ? "bz2" : "none"; }

double config::retry_delay_seconds(int attempts) const {
  double d = retry_initial_seconds;
  for (int i = 1; i < attempts && d < retry_max_seconds; ++i) d *= 2;
  return std::min(d, retry_max_seconds);
}

int config::effective_workers() const {
  if (workers > 0) return workers;
  return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
}

std::optional<fit::fit_algorithm> parse_algorithm(std::string const& s) {
  if (s == "fitacf3" || s == "3.0" || s == "fitacf3.0") return fit::fit_algorithm::fitacf3;
  if (s == "fitacf2" || s == "2.5" || s == "fitacf2.5") return fit::fit_algorithm::fitacf25;
  return std::nullopt;
}

namespace {

using setter = std::function<std::optional<std::string>(toml::node const&, config&)>;

std::optional<std::string> want_string(toml::node const& n, std::string& out) {
  auto v = n.value<std::string>();
  if (!n.is_string() || !v) return "must be a string";
  out = *v;
  return std::nullopt;
}

setter path_key(std::filesystem::path config::*member) {
  return [member](toml::node const& n, config& c) -> std::optional<std::string> {
    std::string s;
    if (auto e = want_string(n, s)) return e;
    c.*member = s;
    return std::nullopt;
  };
}

setter seconds_key(double config::*member, double min, double max) {
  return [=](toml::node const& n, config& c) -> std::optional<std::string> {
    if (!n.is_number()) return "must be a number of seconds";
    double const v = n.value<double>().value_or(-1);
    if (!(v >= min && v <= max)) return fmt::format("must be from {} to {} seconds", min, max);
    c.*member = v;
    return std::nullopt;
  };
}

setter int_key(int config::*member, int min, int max) {
  return [=](toml::node const& n, config& c) -> std::optional<std::string> {
    if (!n.is_integer()) return fmt::format("must be an integer from {} to {}", min, max);
    auto const v = n.value<std::int64_t>().value_or(min - 1);
    if (v < min || v > max) return fmt::format("must be an integer from {} to {}", min, max);
    c.*member = static_cast<int>(v);
    return std::nullopt;
  };
}

std::map<std::string, std::map<std::string, setter>> const& known_keys() {
  static auto const keys = [] {
    std::map<std::string, std::map<std::string, setter>> k;
    k["paths"]["inbox"] = path_key(&config::inbox);
    k["paths"]["out"] = path_key(&config::out);
    k["paths"]["state"] = path_key(&config::state);
    k["paths"]["archive"] = path_key(&config::archive);
    k["paths"]["tables"] = path_key(&config::tables);
    k["processing"]["workers"] = int_key(&config::workers, 0, 1024);
    k["processing"]["threads_per_job"] = int_key(&config::threads_per_job, 1, 1024);
    k["processing"]["fit_algorithm"] = [](toml::node const& n, config& c) -> std::optional<std::string> {
      std::string s;
      if (auto e = want_string(n, s)) return e;
      auto a = parse_algorithm(s);
      if (!a) return fmt::format("\"{}\" is not an algorithm (fitacf3 or fitacf2)", s);
      c.algorithm = *a;
      return std::nullopt;
    };
    k["processing"]["backend"] = [](toml::node const& n, config& c) -> std::optional<std::string> {
      std::string v;
      if (auto e = want_string(n, v)) return e;
      if (v != "cpu" && v != "cuda" && v != "auto") return fmt::format("\"{}\" is not a backend (cpu, cuda or auto)", v);
      c.backend = v;
      return std::nullopt;
    };
    k["processing"]["device"] = int_key(&config::device, 0, 1023);
    k["processing"]["grid_options"] = [](toml::node const& n, config& c) { return want_string(n, c.grid_options); };
    k["processing"]["daily_grids"] = [](toml::node const& n, config& c) -> std::optional<std::string> {
      if (!n.is_boolean()) return "must be true or false";
      c.daily_grids = n.value<bool>().value_or(true);
      return std::nullopt;
    };
    k["processing"]["compress"] = [](toml::node const& n, config& c) -> std::optional<std::string> {
      std::string s;
      if (auto e = want_string(n, s)) return e;
      if (s == "none") c.compress = product_compression::none;
      else if (s == "bz2") c.compress = product_compression::bz2;
      else return fmt::format("\"{}\" is not a compression (none or bz2)", s);
      return std::nullopt;
    };
    k["processing"]["after_success"] = [](toml::node const& n, config& c) -> std::optional<std::string> {
      std::string s;
      if (auto e = want_string(n, s)) return e;
      if (s == "archive") c.after_success = input_disposal::archive;
      else if (s == "keep") c.after_success = input_disposal::keep;
      else if (s == "delete") c.after_success = input_disposal::remove;
      else return fmt::format("\"{}\" is not archive, keep or delete", s);
      return std::nullopt;
    };
    k["inbox"]["rescan_seconds"] = seconds_key(&config::rescan_seconds, 0.05, 86400);
    k["inbox"]["settle_seconds"] = seconds_key(&config::settle_seconds, 0, 3600);
    k["inbox"]["grid_delay_seconds"] = seconds_key(&config::grid_delay_seconds, 0, 86400);
    k["limits"]["job_timeout_seconds"] = seconds_key(&config::job_timeout_seconds, 1, 7 * 86400);
    k["limits"]["shutdown_timeout_seconds"] = seconds_key(&config::shutdown_timeout_seconds, 0, 86400);
    k["limits"]["max_attempts"] = int_key(&config::max_attempts, 1, 1000);
    k["limits"]["retry_initial_seconds"] = seconds_key(&config::retry_initial_seconds, 0.01, 86400);
    k["limits"]["retry_max_seconds"] = seconds_key(&config::retry_max_seconds, 0.01, 7 * 86400);
    k["limits"]["queue_size"] = int_key(&config::queue_size, 0, 100000);
    k["metrics"]["listen"] = [](toml::node const& n, config& c) -> std::optional<std::string> {
      std::string v;
      if (auto e = want_string(n, v)) return e;
      if (!v.empty() && v.rfind(':') == std::string::npos) return fmt::format("\"{}\": expected HOST:PORT, or \"\" for none", v);
      c.metrics_listen = v;
      return std::nullopt;
    };
    auto slurm_string = [](std::string slurm_settings::*member) {
      return [member](toml::node const& n, config& c) { return want_string(n, c.slurm.*member); };
    };
    k["slurm"]["tasks"] = [](toml::node const& n, config& c) -> std::optional<std::string> {
      if (!n.is_integer() || n.value<std::int64_t>().value_or(0) < 1 || n.value<std::int64_t>().value_or(0) > 100000)
        return "must be an integer from 1 to 100000";
      c.slurm.tasks = static_cast<int>(*n.value<std::int64_t>());
      return std::nullopt;
    };
    k["slurm"]["cpus_per_task"] = [](toml::node const& n, config& c) -> std::optional<std::string> {
      if (!n.is_integer() || n.value<std::int64_t>().value_or(0) < 1 || n.value<std::int64_t>().value_or(0) > 1024)
        return "must be an integer from 1 to 1024";
      c.slurm.cpus_per_task = static_cast<int>(*n.value<std::int64_t>());
      return std::nullopt;
    };
    k["slurm"]["partition"] = slurm_string(&slurm_settings::partition);
    k["slurm"]["account"] = slurm_string(&slurm_settings::account);
    k["slurm"]["time"] = slurm_string(&slurm_settings::time);
    k["slurm"]["grid_time"] = slurm_string(&slurm_settings::grid_time);
    k["slurm"]["setup"] = slurm_string(&slurm_settings::setup);
    k["slurm"]["grid_dependency"] = [](toml::node const& n, config& c) -> std::optional<std::string> {
      std::string s;
      if (auto e = want_string(n, s)) return e;
      if (s != "afterany" && s != "afterok") return fmt::format("\"{}\" is not afterany or afterok", s);
      c.slurm.grid_dependency = s;
      return std::nullopt;
    };
    k["slurm"]["sbatch_options"] = [](toml::node const& n, config& c) -> std::optional<std::string> {
      auto const* a = n.as_array();
      if (a == nullptr) return "must be an array of strings";
      std::vector<std::string> v;
      for (auto const& e : *a) {
        if (!e.is_string()) return "must be an array of strings";
        v.push_back(*e.value<std::string>());
      }
      c.slurm.sbatch_options = std::move(v);
      return std::nullopt;
    };
    k["log"]["file"] = path_key(&config::log_file);
    k["log"]["level"] = [](toml::node const& n, config& c) -> std::optional<std::string> {
      std::string s;
      if (auto e = want_string(n, s)) return e;
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (s == "warning") s = "warn";
      if (s != "debug" && s != "info" && s != "warn" && s != "error") return fmt::format("\"{}\" is not debug, info, warn or error", s);
      c.log_level = s;
      return std::nullopt;
    };
    return k;
  }();
  return keys;
}

unexpected config_error(std::filesystem::path const& file, std::int64_t line, std::string const& what) {
  auto msg = line > 0 ? fmt::format("line {}: {}", line, what) : what;
  return unexpected(error(errc::invalid_argument, std::move(msg)).at(file.string()));
}

}  // namespace

result<config> load_config(std::filesystem::path const& file, config base, grid_options_check const& check_grid) {
  toml::table doc;
  try {
    doc = toml::parse_file(file.string());
  } catch (toml::parse_error const& e) {
    if (e.source().begin.line == 0 || !std::filesystem::exists(file))
      return unexpected(error(errc::not_found, fmt::format("cannot read the configuration file: {}", e.description())).at(file.string()));
    return config_error(file, e.source().begin.line, fmt::format("not valid TOML: {}", e.description()));
  }
  auto const& keys = known_keys();
  for (auto const& [section_name, section] : doc) {
    std::string const sname(section_name.str());
    auto const known = keys.find(sname);
    if (known == keys.end())
      return config_error(file, section.source().begin.line,
                          fmt::format("{}: unknown key (sections: paths, processing, inbox, limits, metrics, slurm, log)", sname));
    auto const* table = section.as_table();
    if (table == nullptr) return config_error(file, section.source().begin.line, fmt::format("{}: must be a [{}] table", sname, sname));
    for (auto const& [key_name, value] : *table) {
      std::string const kname(key_name.str());
      auto const set = known->second.find(kname);
      if (set == known->second.end())
        return config_error(file, value.source().begin.line, fmt::format("{}.{}: unknown key", sname, kname));
      if (auto e = set->second(value, base)) return config_error(file, value.source().begin.line, fmt::format("{}.{}: {}", sname, kname, *e));
      if (sname == "processing" && kname == "grid_options" && check_grid)
        if (auto g = check_grid(base.grid_options); !g)
          return config_error(file, value.source().begin.line, fmt::format("processing.grid_options: {}", g.error().what));
    }
  }
  // Relative paths are relative to the file's folder, so a configuration means the same from anywhere.
  auto const dir = std::filesystem::absolute(file).parent_path();
  for (auto* p : {&base.inbox, &base.out, &base.state, &base.archive, &base.tables, &base.log_file})
    if (!p->empty() && p->is_relative()) *p = dir / *p;
  return base;
}

result<void> validate(config const& c, bool need_inbox, grid_options_check const& check_grid) {
  auto bad = [](std::string what) { return unexpected(error(errc::invalid_argument, std::move(what))); };
  if (need_inbox && c.inbox.empty()) return bad("paths.inbox (--inbox) is not set");
  if (c.out.empty()) return bad("paths.out (--out) is not set");
  if (c.state.empty()) return bad("paths.state (--state) is not set");
  if (need_inbox && (c.inbox == c.out || c.inbox == c.state)) return bad("paths.inbox must differ from paths.out and paths.state");
  if (c.retry_max_seconds < c.retry_initial_seconds) return bad("limits.retry_max_seconds is below limits.retry_initial_seconds");
  if (!fit::algorithm_available(c.algorithm)) return bad("processing.fit_algorithm: not available in this build");
  if (check_grid)
    if (auto g = check_grid(c.grid_options); !g) return bad(fmt::format("processing.grid_options: {}", g.error().what));
  return {};
}

std::string to_toml(config const& c) {
  toml::table t{
      {"paths", toml::table{{"inbox", c.inbox.string()}, {"out", c.out.string()}, {"state", c.state.string()},
                            {"archive", c.archive_dir().string()}, {"tables", c.tables.string()}}},
      {"processing", toml::table{{"workers", c.workers}, {"threads_per_job", c.threads_per_job},
                                 {"fit_algorithm", c.algorithm == fit::fit_algorithm::fitacf3 ? "fitacf3" : "fitacf2"},
                                 {"backend", c.backend}, {"device", c.device},
                                 {"grid_options", c.grid_options}, {"daily_grids", c.daily_grids},
                                 {"compress", to_string(c.compress)}, {"after_success", to_string(c.after_success)}}},
      {"inbox", toml::table{{"rescan_seconds", c.rescan_seconds}, {"settle_seconds", c.settle_seconds},
                            {"grid_delay_seconds", c.grid_delay_seconds}}},
      {"limits", toml::table{{"job_timeout_seconds", c.job_timeout_seconds},
                             {"shutdown_timeout_seconds", c.shutdown_timeout_seconds},
                             {"max_attempts", c.max_attempts}, {"retry_initial_seconds", c.retry_initial_seconds},
                             {"retry_max_seconds", c.retry_max_seconds}, {"queue_size", c.queue_size}}},
      {"metrics", toml::table{{"listen", c.metrics_listen}}},
      {"slurm", [&] {
         toml::array opts;
         for (auto const& o : c.slurm.sbatch_options) opts.push_back(o);
         return toml::table{{"tasks", c.slurm.tasks}, {"cpus_per_task", c.slurm.cpus_per_task}, {"partition", c.slurm.partition},
                            {"account", c.slurm.account}, {"time", c.slurm.time}, {"grid_time", c.slurm.grid_time},
                            {"grid_dependency", c.slurm.grid_dependency}, {"setup", c.slurm.setup}, {"sbatch_options", opts}};
       }()},
      {"log", toml::table{{"file", c.log_file.string()}, {"level", c.log_level}}},
  };
  std::ostringstream os;
  os << t << "\n";
  return os.str();
}

}  // namespace rstx::service
