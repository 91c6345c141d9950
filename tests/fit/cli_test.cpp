// make_fit's command line: RST's single-dash long options and rstx's own.
#include <gtest/gtest.h>

#include "cli.hpp"

using rstx::fit::fit_algorithm;
using rstx::make_fit::backend_choice;
using rstx::make_fit::parse_command_line;

TEST(make_fit_cli, rst5_style) {
  auto o = parse_command_line({"-vb", "-fitacf3", "-tdiff", "-0.35", "-tdiff_method", "4", "-old_elev", "in.rawacf"});
  ASSERT_TRUE(o) << o.error().what;
  EXPECT_TRUE(o->verbose);
  EXPECT_TRUE(o->old_elevation);
  ASSERT_EQ(o->algorithms.size(), 1U);
  EXPECT_EQ(o->algorithms[0], fit_algorithm::fitacf3);
  EXPECT_EQ(o->tdiff_us, -0.35);
  EXPECT_EQ(o->tdiff_method, 4);
  EXPECT_EQ(o->input, "in.rawacf");
}

TEST(make_fit_cli, rst4_style_version_flag) {
  auto o = parse_command_line({"-fitacf-version", "3.0", "x"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->algorithms, std::vector<fit_algorithm>{fit_algorithm::fitacf3});
  o = parse_command_line({"-fitacf-version", "2.5"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->algorithms, std::vector<fit_algorithm>{fit_algorithm::fitacf25});
  EXPECT_TRUE(o->input.empty());  // standard input
  EXPECT_FALSE(parse_command_line({"-fitacf-version", "1.0"}));
  EXPECT_FALSE(parse_command_line({"-fitacf-version"}));
}

TEST(make_fit_cli, rstx_options_with_one_or_two_dashes_and_equals) {
  auto o = parse_command_line({"-fitacf3", "--threads", "3", "-o", "out.fitacf.bz2", "--backend=cpu", "--strict", "-"});
  ASSERT_TRUE(o) << o.error().what;
  EXPECT_EQ(o->threads, 3);
  EXPECT_EQ(o->output, "out.fitacf.bz2");
  EXPECT_EQ(o->backend, backend_choice::cpu);
  EXPECT_TRUE(o->strict);
  EXPECT_EQ(o->input, "-");
  o = parse_command_line({"--fitacf3", "-threads=0", "--backend", "cuda"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->backend, backend_choice::cuda);
}

TEST(make_fit_cli, help_and_version) {
  EXPECT_TRUE(parse_command_line({"--help"})->help);
  EXPECT_TRUE(parse_command_line({"-help"})->help);
  EXPECT_TRUE(parse_command_line({"--version"})->version);
  EXPECT_NE(rstx::make_fit::help_text().find("-fitacf-version"), std::string::npos);
}

TEST(make_fit_cli, errors) {
  auto o = parse_command_line({"-fitacf3", "-frobnicate"});
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().what.find("Option not recognized: -frobnicate"), std::string::npos);
  EXPECT_FALSE(parse_command_line({"-tdiff", "abc"}));
  EXPECT_FALSE(parse_command_line({"-tdiff"}));
  EXPECT_FALSE(parse_command_line({"--threads", "-2"}));
  EXPECT_FALSE(parse_command_line({"--backend", "gpu"}));
  EXPECT_FALSE(parse_command_line({"-vb=1"}));
  EXPECT_FALSE(parse_command_line({"-fitacf3", "a", "b"}));
  o = parse_command_line({"-lmfit2"});
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().what.find("make_lmfit2"), std::string::npos);
  EXPECT_FALSE(parse_command_line({"-old"}));
  EXPECT_FALSE(parse_command_line({"-fitex2"}));
}

TEST(make_fit_cli, options_stop_at_the_first_file) {
  auto o = parse_command_line({"-fitacf3", "file.rawacf"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->input, "file.rawacf");
  auto multiple = parse_command_line({"-fitacf3", "-fitacf2"});
  ASSERT_TRUE(multiple);  // accepted by the parser; make_fit rejects two algorithms
  EXPECT_EQ(multiple->algorithms.size(), 2U);
}
