#include "rstx/service/slurm.hpp"
#include "rstx/service/naming.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace rstx::service;
namespace fs = std::filesystem;

namespace {

/** radars x days x files_per_day files, sizes varying with a fixed seed. */
std::vector<slurm::planned_file> archive(int radars, int days, int per_day, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int64_t> size(10'000'000, 60'000'000);
  char const* codes[] = {"cly", "rkn", "inv", "sas", "pgr", "kod", "bks", "fhe"};
  std::vector<slurm::planned_file> files;
  for (int r = 0; r < radars; ++r)
    for (int d = 0; d < days; ++d)
      for (int h = 0; h < per_day; ++h) {
        auto const day = fmt::format("202106{:02d}", d + 1);
        files.push_back({fmt::format("/archive/{0}/{0}.{1:02d}00.00.{2}.rawacf.bz2", day, 2 * h, codes[r]), size(rng),
                         day + "." + codes[r]});
      }
  return files;
}

std::int64_t bytes(std::vector<slurm::planned_file> const& f) {
  std::int64_t b = 0;
  for (auto const& x : f) b += x.size;
  return b;
}

}  // namespace

TEST(SlurmSplit, EveryFileOnceAndEachRadarDayInOneShard) {
  auto const files = archive(4, 5, 12);
  auto const shards = slurm::split(files, 6);
  ASSERT_EQ(shards.size(), 6U);
  std::map<std::string, int> shard_of_day;
  std::set<std::string> seen;
  for (auto const& s : shards) {
    EXPECT_EQ(s.bytes, bytes(s.files));
    EXPECT_TRUE(std::is_sorted(s.files.begin(), s.files.end(), [](auto const& a, auto const& b) { return a.path < b.path; }));
    for (auto const& f : s.files) {
      EXPECT_TRUE(seen.insert(f.path).second) << f.path << " twice";
      auto [it, fresh] = shard_of_day.emplace(f.group, s.index);
      EXPECT_EQ(it->second, s.index) << f.group << " split across shards";
    }
  }
  EXPECT_EQ(seen.size(), files.size());
}

TEST(SlurmSplit, BalancedBySize) {
  auto const files = archive(4, 10, 12);
  auto const shards = slurm::split(files, 4);
  ASSERT_EQ(shards.size(), 4U);
  auto const [lo, hi] = std::minmax_element(shards.begin(), shards.end(), [](auto const& a, auto const& b) { return a.bytes < b.bytes; });
  // 40 days dealt largest first: the spread is at most one radar-day (12 files of at most 60 MB).
  EXPECT_LE(hi->bytes - lo->bytes, 12 * 60'000'000LL);
  EXPECT_LT(static_cast<double>(hi->bytes - lo->bytes) / static_cast<double>(hi->bytes), 0.1);
}

TEST(SlurmSplit, DeterministicWhateverTheOrderOfTheList) {
  auto files = archive(3, 4, 6);
  auto const a = slurm::split(files, 3);
  std::reverse(files.begin(), files.end());
  std::shuffle(files.begin(), files.end(), std::mt19937(42));
  files.push_back(files.front());  // the same file twice counts once
  auto const b = slurm::split(files, 3);
  EXPECT_EQ(slurm::to_json(slurm::manifest{1, 0, a}), slurm::to_json(slurm::manifest{1, 0, b}));
}

TEST(SlurmSplit, DaysAreSplitOnlyWhenThereAreFewerDaysThanShards) {
  auto const files = archive(1, 2, 4);  // two radar-days, four shards wanted
  auto const shards = slurm::split(files, 4);
  ASSERT_EQ(shards.size(), 4U);
  for (auto const& s : shards) EXPECT_FALSE(s.files.empty());
  // Fewer files than shards: one file each, no empty shard.
  EXPECT_EQ(slurm::split(archive(1, 1, 3), 8).size(), 3U);
  EXPECT_TRUE(slurm::split({}, 4).empty());
}

TEST(SlurmSplit, FilesWithoutASuperdarnNameAreSpreadOnTheirOwn) {
  std::vector<slurm::planned_file> files = {{"/x/a.dat", 100, ""}, {"/x/b.dat", 100, ""}, {"/x/c.dat", 100, ""}, {"/x/d.dat", 100, ""}};
  auto const shards = slurm::split(files, 2);
  ASSERT_EQ(shards.size(), 2U);
  EXPECT_EQ(shards[0].files.size(), 2U);
  EXPECT_EQ(shards[1].files.size(), 2U);
}

TEST(SlurmManifest, RoundTripsAndIsWrittenOnce) {
  auto const dir = fs::path(::testing::TempDir()) / "rstx-slurm-manifest";
  fs::remove_all(dir);
  slurm::manifest m{1, 1700000000.5, slurm::split(archive(2, 2, 3), 3)};
  ASSERT_TRUE(slurm::write_manifest(dir, m));
  auto back = slurm::read_manifest(dir);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(slurm::to_json(*back), slurm::to_json(m));
  EXPECT_EQ(back->file_count(), 12);
  auto again = slurm::write_manifest(dir, m);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("exists already"), std::string::npos);
  fs::remove_all(dir);
}

TEST(SlurmScripts, ArraySpecAndScriptLines) {
  EXPECT_EQ(slurm::array_spec({0, 1, 2, 3}), "0-3");
  EXPECT_EQ(slurm::array_spec({5, 1, 3, 2}), "1-3,5");
  EXPECT_EQ(slurm::array_spec({7}), "7");
  slurm_settings s;
  s.partition = "short";
  s.time = "02:00:00";
  s.cpus_per_task = 8;
  s.setup = "module load rstx";
  s.sbatch_options = {"--qos=long"};
  auto const t = slurm::array_script({"/opt/rstx/bin/rst-processor", "/scratch/it's state", s, "0-3"});
  EXPECT_NE(t.find("#SBATCH --array=0-3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("#SBATCH --partition=short\n"), std::string::npos);
  EXPECT_NE(t.find("#SBATCH --time=02:00:00\n"), std::string::npos);
  EXPECT_NE(t.find("#SBATCH --cpus-per-task=8\n"), std::string::npos);
  EXPECT_NE(t.find("#SBATCH --qos=long\n"), std::string::npos);
  EXPECT_LT(t.find("module load rstx\n"), t.find("exec "));
  EXPECT_NE(t.find("exec '/opt/rstx/bin/rst-processor' slurm task --state '/scratch/it'\\''s state' --shard \"$SLURM_ARRAY_TASK_ID\""), std::string::npos) << t;
  auto const g = slurm::grid_script({"/opt/rstx/bin/rst-processor", "/scratch/s", s, "0-3"});
  EXPECT_EQ(g.find("--array"), std::string::npos);
  EXPECT_NE(g.find("slurm grid --state '/scratch/s'"), std::string::npos);
}

// ---- the steps of `rst-processor slurm` that need no Slurm ------------------------------------

namespace {

fs::path fresh_dir(std::string const& name) {
  auto const dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

slurm::file_outcome outcome(std::string const& path, std::int64_t size, int shard, std::string const& state, double seconds = 0, double finished = 0) {
  slurm::file_outcome o;
  auto const name = fs::path(path).filename().string();
  auto const key = parse_superdarn_name(name);
  o.file = {path, size, key ? key->grid_key() : ""};
  o.shard = shard;
  o.state = state;
  o.grid_key = o.file.group;
  o.seconds = seconds;
  o.finished = finished;
  if (state == "done") o.output = path + ".fitacf";
  if (state == "failed" || state == "quarantined") o.error = "bad " + name;
  return o;
}

}  // namespace

TEST(SlurmSteps, PlanInputsReadsSizesAndDaysAndNamesTheProblems) {
  auto const dir = fresh_dir("rstx-slurm-inputs");
  std::ofstream(dir / "20210601.0000.00.cly.rawacf") << "12345";
  std::ofstream(dir / "notes.dat") << "ab";
  auto const in = slurm::plan_inputs({dir / "20210601.0000.00.cly.rawacf", dir / "notes.dat", dir / "absent.rawacf", dir});
  ASSERT_EQ(in.files.size(), 2U);
  EXPECT_EQ(in.files[0].path, (dir / "20210601.0000.00.cly.rawacf").string());
  EXPECT_EQ(in.files[0].size, 5);
  EXPECT_EQ(in.files[0].group, "20210601.cly");
  EXPECT_EQ(in.files[1].group, "");
  ASSERT_EQ(in.problems.size(), 2U);
  EXPECT_EQ(in.problems[0].rfind((dir / "absent.rawacf").string() + ": ", 0), 0U) << in.problems[0];
  EXPECT_EQ(in.problems[1].rfind(dir.string() + ": ", 0), 0U) << in.problems[1];
  auto const m = slurm::plan_shards(in.files, 4);
  EXPECT_EQ(m.shards.size(), 2U);
  EXPECT_GT(m.created, 0);
  fs::remove_all(dir);
}

TEST(SlurmSteps, SubmissionPlanAndItsRecordWithoutJobs) {
  auto const dir = fresh_dir("rstx-slurm-submit");
  fs::create_directories(dir / "slurm");
  config cfg;
  cfg.slurm.grid_dependency = "afterok";
  auto const p = slurm::plan_submission("/opt/rst-processor", dir, cfg, {3, 1, 2}, true);
  EXPECT_EQ(p.request.array, "1-3");
  EXPECT_NE(p.array_text.find("#SBATCH --array=1-3\n"), std::string::npos);
  EXPECT_NE(p.grid_text.find("slurm grid --state"), std::string::npos);
  // Nothing to hand to sbatch: only the record is written, and again, one submission each.
  auto const none = slurm::plan_submission("/opt/rst-processor", dir, cfg, {}, false);
  for (int i = 0; i < 2; ++i) {
    auto s = slurm::submit(none);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_FALSE(s->grid_error);
    EXPECT_FALSE(s->record_error);
    EXPECT_TRUE(s->record.array_job.empty() && s->record.grid_job.empty());
  }
  auto subs = slurm::read_submissions(dir);
  ASSERT_TRUE(subs);
  EXPECT_EQ(subs->size(), 2U);
  EXPECT_FALSE(fs::exists(dir / "slurm" / "submit-1-array.sh"));
  fs::remove_all(dir);
}

TEST(SlurmSteps, TaskPlanTakesTheShardsLedgerLogAndSlurmsCpus) {
  auto const dir = fresh_dir("rstx-slurm-task");
  config cfg;
  cfg.state = dir;
  cfg.slurm.cpus_per_task = 3;
  cfg.metrics_listen = "127.0.0.1:9101";
  slurm::manifest m{1, 0, slurm::split(archive(2, 2, 3), 2)};
  slurm::job_environment env;
  env.job_id = "77";
  auto const t = slurm::plan_task(cfg, m, 1, env);
  EXPECT_EQ(t.shard, 1);
  EXPECT_EQ(t.job, "77");
  EXPECT_EQ(t.cfg.workers, 3);
  EXPECT_EQ(t.cfg.ledger_file, slurm::shard_ledger_path(dir, 1));
  EXPECT_EQ(t.cfg.log_file, slurm::task_log_path(dir, 1));
  EXPECT_FALSE(t.cfg.daily_grids);
  EXPECT_TRUE(t.cfg.defer_grids);
  EXPECT_TRUE(t.cfg.metrics_listen.empty());
  ASSERT_EQ(t.files.size(), m.shards[1].files.size());
  EXPECT_EQ(t.files[0].string(), m.shards[1].files[0].path);
  env.cpus_per_task = 8;
  EXPECT_EQ(slurm::workers(cfg, env), 8);
  fs::remove_all(dir);
}

TEST(SlurmStatus, CountsPerRadarDayAndShardWithThroughputAndGrids) {
  slurm::manifest m{1, 0, {slurm::shard{0, 0, {}}, slurm::shard{1, 0, {}}}};
  slurm::merged_view v;
  v.files = {outcome("/a/20210601.0000.00.cly.rawacf", 1'000'000, 0, "done", 1800, 100),
             outcome("/a/20210601.0200.00.cly.rawacf", 3'000'000, 0, "done", 1800, 3700),
             outcome("/a/20210602.0000.00.rkn.rawacf", 500, 1, "quarantined"),
             outcome("/a/20210602.0200.00.rkn.rawacf", 700, 1, "failed"),
             outcome("/a/odd.dat", 10, 1, "missing")};
  v.problems = {"shard 3: unreadable"};
  auto const grids = nlohmann::json::parse(R"({"20210601.cly": {"state": "done"}, "20210602.rkn": {"state": "failed"}})");
  std::vector<slurm::submission> subs = {{5, "101", "102", {0, 1}}};
  auto const r = slurm::summarize("/state", m, v, grids, subs, std::map<std::string, std::string>{{"101_0", "COMPLETED"}, {"102", "PENDING"}});
  EXPECT_EQ(r.shards, 2U);
  EXPECT_EQ(r.inputs.files, 5);
  EXPECT_EQ(r.inputs.done, 2);
  EXPECT_EQ(r.inputs.of("quarantined"), 1);
  EXPECT_EQ(r.inputs.bytes, 4'001'210);
  EXPECT_EQ(r.per_radar.at("cly").done, 2);
  EXPECT_EQ(r.per_radar.at("unknown").missing, 1);
  EXPECT_EQ(r.per_day.at("20210602").files, 2);
  EXPECT_EQ(r.per_shard[1].files, 3);
  ASSERT_EQ(r.unfinished.size(), 2U);
  EXPECT_EQ(r.unfinished[0].state, "failed");
  ASSERT_EQ(r.quarantined.size(), 1U);
  EXPECT_EQ(r.grids.at("done"), 1);
  EXPECT_EQ(r.grids.at("failed"), 1);
  EXPECT_EQ(r.throughput.bytes_done, 4'000'000);
  EXPECT_DOUBLE_EQ(r.throughput.mb_per_core_hour, 4.0);
  EXPECT_DOUBLE_EQ(r.throughput.files_per_core_hour, 2.0);
  EXPECT_DOUBLE_EQ(r.throughput.files_per_hour, 2.0);
  EXPECT_TRUE(r.active);
  EXPECT_FALSE(r.complete);
  auto const j = slurm::to_json(r);
  for (auto const* k : {"state_dir", "shards", "inputs", "per_radar", "per_day", "per_shard", "problems", "unfinished", "quarantined", "grids",
                        "throughput", "submissions", "scheduler", "active", "complete"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_FALSE(j.contains("scheduler_error"));
  EXPECT_EQ(j["per_shard"][1]["index"], 1);
  EXPECT_EQ(j["per_shard"][1]["missing"], 1);
  EXPECT_EQ(j["inputs"]["bytes"], 4'001'210);
  EXPECT_EQ(j["unfinished"][0], (nlohmann::json{{"path", "/a/20210602.0200.00.rkn.rawacf"}, {"shard", 1}, {"state", "failed"}, {"error", "bad 20210602.0200.00.rkn.rawacf"}}));
  EXPECT_FALSE(j["quarantined"][0].contains("state"));
  EXPECT_EQ(j["submissions"][0]["shards"], nlohmann::json({0, 1}));
  EXPECT_EQ(j["scheduler"]["102"], "PENDING");

  auto const p = slurm::plan_resubmission(r, v, grids, true);
  ASSERT_EQ(p.active_jobs.size(), 1U);
  EXPECT_EQ(p.active_jobs[0], (std::pair<std::string, std::string>{"102", "PENDING"}));
  EXPECT_EQ(p.shards, std::vector<int>{1});
  EXPECT_EQ(p.unfinished_files, 2U);
  EXPECT_TRUE(p.grids);
  EXPECT_FALSE(slurm::plan_resubmission(r, v, grids, false).grids);
}

TEST(SlurmStatus, ResubmitWantsTheGridOfADayWithDoneFilesOnly) {
  slurm::manifest m{1, 0, {slurm::shard{0, 0, {}}}};
  slurm::merged_view v;
  v.files = {outcome("/a/20210601.0000.00.cly.rawacf", 10, 0, "done"), outcome("/a/20210601.0200.00.cly.rawacf", 10, 0, "quarantined")};
  auto const none = slurm::summarize("/s", m, v, nlohmann::json::object(), {}, rstx::unexpected(rstx::error(rstx::errc::not_found, "no slurm")));
  EXPECT_FALSE(none.scheduler);
  EXPECT_EQ(slurm::to_json(none)["scheduler_error"], "not_found: no slurm");
  EXPECT_FALSE(none.active);
  EXPECT_TRUE(none.complete);
  auto p = slurm::plan_resubmission(none, v, nlohmann::json::object(), true);
  EXPECT_TRUE(p.shards.empty());
  EXPECT_TRUE(p.grids);
  EXPECT_FALSE(p.nothing());
  auto const built = nlohmann::json::parse(R"({"20210601.cly": {"state": "done"}})");
  p = slurm::plan_resubmission(slurm::summarize("/s", m, v, built, {}, std::map<std::string, std::string>{}), v, built, true);
  EXPECT_TRUE(p.nothing());
}

TEST(SlurmStatus, FromAStateFolderWithAPlanAndNoLedgers) {
  auto const dir = fresh_dir("rstx-slurm-status");
  slurm::manifest m{1, 1, slurm::split(archive(1, 2, 2), 2)};
  ASSERT_TRUE(slurm::write_manifest(dir, m));
  auto r = slurm::status(dir);  // no submission: Slurm is not asked
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->inputs.missing, 4);
  EXPECT_EQ(r->unfinished.size(), 4U);
  ASSERT_TRUE(r->scheduler);
  EXPECT_TRUE(r->scheduler->empty());
  auto p = slurm::plan_resubmission(dir, true);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->shards, (std::vector<int>{0, 1}));
  EXPECT_TRUE(p->grids);
  EXPECT_FALSE(slurm::status(dir / "elsewhere"));
  fs::remove_all(dir);
}
