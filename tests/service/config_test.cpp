#include "rstx/service/config.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "support/test_data.hpp"

using namespace rstx::service;

namespace {
std::filesystem::path write(std::string const& name, std::string const& text) {
  auto dir = rstx::test::scratch_dir("service_config");
  auto p = dir / name;
  std::ofstream(p) << text;
  return p;
}
}  // namespace

TEST(ServiceConfig, DefaultsAreDocumented) {
  config c;
  EXPECT_EQ(c.algorithm, rstx::fit::fit_algorithm::fitacf3);
  EXPECT_EQ(c.grid_options, "-xtd");
  EXPECT_EQ(c.after_success, input_disposal::archive);
  EXPECT_EQ(c.compress, product_compression::none);
  c.state = "/s";
  EXPECT_EQ(c.archive_dir(), std::filesystem::path("/s/archive"));
  EXPECT_EQ(c.ledger_path(), std::filesystem::path("/s/ledger.sqlite"));
  EXPECT_GE(c.effective_workers(), 1);
}

TEST(ServiceConfig, ReadsEveryKindOfKeyAndResolvesRelativePaths) {
  auto p = write("ok.toml", R"([paths]
inbox = "in"
out = "/abs/out"
state = "st"
[processing]
workers = 3
fit_algorithm = "fitacf2"
backend = "auto"
device = 1
compress = "bz2"
after_success = "delete"
daily_grids = false
[inbox]
settle_seconds = 0
[limits]
max_attempts = 7
[log]
level = "WARNING"
)");
  auto c = load_config(p);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->inbox, p.parent_path() / "in");
  EXPECT_EQ(c->out, std::filesystem::path("/abs/out"));
  EXPECT_EQ(c->workers, 3);
  EXPECT_EQ(c->algorithm, rstx::fit::fit_algorithm::fitacf25);
  EXPECT_EQ(c->backend, "auto");
  EXPECT_EQ(c->device, 1);
  EXPECT_EQ(c->compress, product_compression::bz2);
  EXPECT_EQ(c->after_success, input_disposal::remove);
  EXPECT_FALSE(c->daily_grids);
  EXPECT_EQ(c->settle_seconds, 0);
  EXPECT_EQ(c->max_attempts, 7);
  EXPECT_EQ(c->log_level, "warn");
}

TEST(ServiceConfig, ErrorsNameTheFileKeyAndLine) {
  auto p = write("bad.toml", "[processing]\nworkers = 2\nfit_algorithm = \"fitacf9\"\n");
  auto c = load_config(p);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().source, p.string());
  EXPECT_NE(c.error().what.find("line 3: processing.fit_algorithm"), std::string::npos) << c.error().what;
  p = write("bad-backend.toml", "[processing]\nbackend = \"gpu\"\n");
  c = load_config(p);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().what.find("line 2: processing.backend"), std::string::npos) << c.error().what;
  auto missing = load_config(p.parent_path() / "nope.toml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, rstx::errc::not_found);
}

TEST(ServiceConfig, GridOptionsAreCheckedByTheGivenParser) {
  auto p = write("grid.toml", "[processing]\ngrid_options = \"-bad\"\n");
  auto c = load_config(p, {}, [](std::string const& o) -> rstx::result<void> {
    if (o == "-bad") return rstx::fail(rstx::errc::invalid_argument, "unknown option -bad");
    return {};
  });
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().what.find("line 2: processing.grid_options: unknown option -bad"), std::string::npos) << c.error().what;
}
