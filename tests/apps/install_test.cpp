// `make install` end to end: the build installed into a scratch prefix, and the installed programs
// run from another directory with an empty environment (no RST variable, no PATH) give RST 5.0's
// reference outputs for every radar in ../shared/data that has them.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/test_data.hpp"

namespace rstx {
namespace {

namespace fs = std::filesystem;

class Installed : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    prefix_ = new fs::path(test::scratch_dir("installed") / "prefix");
    auto const r = test::run(std::string(RSTX_CMAKE_COMMAND) + " --install " + test::quoted(test::bin_dir().parent_path()) +
                             " --prefix " + test::quoted(*prefix_) + " 2>&1");
    install_log_ = new std::string(r.out);
    install_status_ = r.status;
  }
  static void TearDownTestSuite() {
    delete prefix_;
    delete install_log_;
  }
  void SetUp() override { ASSERT_EQ(install_status_, 0) << *install_log_; }

  /** Runs an installed program in an empty environment from a directory outside the prefix. */
  static test::run_result run(std::string const& program, std::string const& args) {
    auto const cwd = test::scratch_dir("installed_cwd");
    return test::run("cd " + test::quoted(cwd) + " && env -i " + test::quoted(*prefix_ / "bin" / program) + " " + args);
  }
  static fs::path shared(std::string const& rel) { return test::shared_path(rel); }

  static inline fs::path* prefix_ = nullptr;
  static inline std::string* install_log_ = nullptr;
  static inline int install_status_ = -1;
};

TEST_F(Installed, LaysOutProgramsTablesManPagesAndDocs) {
  for (auto const* rel : {"bin/make_fit", "bin/make_grid", "bin/rstx", "share/rstx/tables/radar.dat",
                          "share/rstx/tables/hdw/hdw.dat.cly", "share/rstx/tables/aacgm/aacgm_coeffs-13-2020.asc",
                          "share/rstx/tables/aacgm/aacgm_coeffs-14-2025.asc", "share/rstx/tables/igrf/coef.dat",
                          "share/man/man1/make_fit.1.gz", "share/man/man1/make_grid.1.gz", "share/man/man1/rstx.1.gz",
                          "share/doc/rstx/README.md", "bin/rst-processor", "share/man/man1/rst-processor.1.gz",
                          "share/rstx/rst-processor.toml"})
    EXPECT_TRUE(fs::exists(*prefix_ / rel)) << rel;
  EXPECT_FALSE(fs::exists(*prefix_ / "bin" / "rstx_fit_tests")) << "tests are not installed";
}

TEST_F(Installed, FitsLikeRstWithNoEnvironment) {
  auto const out = test::scratch_dir("installed_fit");
  struct job {
    char const* input;
    char const* flag;
    char const* reference;
  };
  for (auto const& j : {job{"data/real/test.rawacf", "-fitacf3", "data/real/test.rawacf.rst-fitacf3.fitacf"},
                        job{"data/real/test.rawacf", "-fitacf2", "data/real/test.rawacf.rst-fitacf25.fitacf"},
                        job{"data/synth/cly_10min_float.rawacf.bz2", "-fitacf3", "data/synth/cly_10min_float.rst-fitacf3.fitacf"},
                        job{"data/synth/cly_30min_int.rawacf.bz2", "-fitacf2", "data/synth/cly_30min_int.rst-fitacf25.fitacf"}}) {
    SCOPED_TRACE(j.input + std::string(" ") + j.flag);
    auto const fitted = out / "out.fitacf";
    auto r = run("make_fit", std::string(j.flag) + " " + test::quoted(shared(j.input)) + " -o " + test::quoted(fitted) + " 2>&1");
    ASSERT_EQ(r.status, 0) << r.out;
    r = run("rstx", "diff " + test::quoted(fitted) + " " + test::quoted(shared(j.reference)) + " 2>&1");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("bit-identical"), std::string::npos) << r.out;
  }
}

TEST_F(Installed, GridsLikeRstWithNoEnvironment) {
  auto const out = test::scratch_dir("installed_grid");
  for (auto const* name : {"cly_10min_float", "cly_30min_int"}) {
    SCOPED_TRACE(name);
    auto const fitacf = shared(std::string("data/synth/") + name + ".rst-fitacf3.fitacf");
    auto const grid = out / "out.grid";
    auto r = run("make_grid", "-xtd -o " + test::quoted(grid) + " " + test::quoted(fitacf) + " 2>&1");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(test::read_bytes(grid), test::read_bytes(shared(std::string("data/synth/") + name + ".rst-fitacf3.xtd.grid")));
  }
}

}  // namespace
}  // namespace rstx
