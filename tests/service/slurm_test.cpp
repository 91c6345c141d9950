#include "rstx/service/slurm.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>

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
        char day[16], path[96];
        std::snprintf(day, sizeof day, "202106%02d", d + 1);
        std::snprintf(path, sizeof path, "/archive/%s/%s.%02d00.00.%s.rawacf.bz2", day, day, 2 * h, codes[r]);
        files.push_back({path, size(rng), std::string(day) + "." + codes[r]});
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
