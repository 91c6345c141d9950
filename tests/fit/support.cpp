#include "support.hpp"

#include <cstdlib>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"
#include "support/test_data.hpp"

namespace rstx::fit::test {

tables shared_tables() {
  auto const t = rstx::test::tables_path("");
  return {(t / "radar.dat").string(), (t / "hdw").string() + "/", (t / "tdiff").string() + "/"};
}

void set_table_environment() {
  auto const t = shared_tables();
  ::setenv("SD_RADAR", t.radar_dat.c_str(), 1);
  ::setenv("SD_HDWPATH", t.hdw_dir.c_str(), 1);
  ::setenv("SD_TDIFFPATH", t.tdiff_dir.c_str(), 1);
}

std::string table_environment() { return rstx::test::table_environment(); }

result<fit_run> fit_file(std::filesystem::path const& input, run_options const& options, int threads,
                         std::int32_t chunk_records) {
  auto const t = shared_tables();
  auto radars = radar::radar_table::load(t.radar_dat);
  if (!radars) return unexpected(std::move(radars.error()));
  dmap::reader_options ropt;
  ropt.recover = true;
  auto in = dmap::reader::open(input.string(), ropt);
  if (!in) return unexpected(std::move(in.error()));
  auto const out_path = rstx::test::scratch_dir("fit_file") / "out.fitacf";
  fit_run run;
  {
    auto out = dmap::writer::create(out_path.string());
    if (!out) return unexpected(std::move(out.error()));
    stream_options sopt;
    sopt.run = options;
    if (sopt.run.hdw_dir.empty()) sopt.run.hdw_dir = t.hdw_dir;
    if (sopt.run.tdiff_dir.empty()) sopt.run.tdiff_dir = t.tdiff_dir;
    sopt.chunk_records = chunk_records;
    sopt.command = "make_fit (test)";
    stream_callbacks cb;
    cb.skipped = [&](error const& e) { run.skipped.push_back(e); };
    thread_pool pool(threads);
    auto summary = fit_stream(*in, *out, *radars, sopt, exec_context::cpu(&pool), cb);
    if (!summary) return unexpected(std::move(summary.error()));
    run.summary = *summary;
    if (auto c = out->commit(); !c) return unexpected(std::move(c.error()));
  }
  auto recs = dmap::read_file(out_path.string());
  if (!recs) return unexpected(std::move(recs.error()));
  run.records = std::move(*recs);
  return run;
}

run_options options_from_flags(std::vector<std::string> const& flags) {
  auto cli = make_fit::parse_command_line(flags);
  EXPECT_TRUE(cli.has_value()) << (cli ? "" : cli.error().what);
  run_options o;
  if (!cli) return o;
  if (!cli->algorithms.empty()) o.algorithm = cli->algorithms.front();
  o.old_elevation = cli->old_elevation;
  o.tdiff_us = cli->tdiff_us;
  o.tdiff_method = cli->tdiff_method;
  return o;
}

std::string comparison::report(std::string const& name) const {
  std::string s = fmt::format("{}: {} records, {} fitted ranges, {} float values, {} not bit-identical, {} beyond "
                              "tolerance, {} exact mismatches\n",
                              name, records, fitted, result.float_values, result.not_identical,
                              result.beyond_tolerance, result.exact_mismatches);
  for (auto const& [field, st] : result.fields) {
    if (st.not_identical == 0 && st.beyond_tolerance == 0) continue;
    s += fmt::format("  {:<12} {} of {} not bit-identical, worst |diff| {:.3g}, worst rel {:.3g}\n", field,
                     st.not_identical, st.values, st.max_abs_diff, st.max_rel_diff);
  }
  for (auto const& m : result.mismatches) s += fmt::format("  record {} {}: {}\n", m.record, m.field, m.what);
  return s;
}

comparison compare_files(std::vector<dmap::record> const& ours, std::vector<dmap::record> const& ref) {
  comparison c;
  c.records = static_cast<std::int64_t>(ref.size());
  c.result.records_a = static_cast<std::int64_t>(ours.size());
  c.result.records_b = static_cast<std::int64_t>(ref.size());
  dmap::compare_options opt;  // rtol 1e-5, atol 1e-5, origin.* ignored
  for (std::size_t i = 0; i < std::min(ours.size(), ref.size()); ++i) {
    dmap::compare_records(ours[i], ref[i], static_cast<std::int64_t>(i), opt, c.result);
    if (auto s = ref[i].find_array("slist")) c.fitted += static_cast<std::int64_t>(s->count());
  }
  return c;
}

namespace {
template <class F>
dmap::record rebuild(dmap::record const& r, std::string const& name, F&& replacement) {
  dmap::record out;
  bool done = false;
  for (std::size_t i = 0; i < r.num_scalars(); ++i) {
    auto const s = r.scalar(i);
    if (s.name() == name) {
      replacement(out, &s, nullptr);
      done = true;
    } else {
      out.add_copy(s);
    }
  }
  for (std::size_t i = 0; i < r.num_arrays(); ++i) {
    auto const a = r.array(i);
    if (a.name() == name) {
      replacement(out, nullptr, &a);
      done = true;
    } else {
      out.add_copy(a);
    }
  }
  if (!done) replacement(out, nullptr, nullptr);
  return out;
}
}  // namespace

template <class T>
dmap::record with_scalar(dmap::record const& r, std::string const& name, T value) {
  return rebuild(r, name, [&](dmap::record& out, dmap::scalar_ref const*, dmap::array_ref const*) {
    out.add_scalar<T>(name, value);
  });
}

template <class T>
dmap::record with_array(dmap::record const& r, std::string const& name, std::vector<std::int32_t> dims,
                        std::vector<T> const& values) {
  return rebuild(r, name, [&](dmap::record& out, dmap::scalar_ref const*, dmap::array_ref const*) {
    out.add_array<T>(name, std::span<std::int32_t const>(dims), std::span<T const>(values));
  });
}

dmap::record without(dmap::record const& r, std::string const& name) {
  return rebuild(r, name, [](dmap::record&, dmap::scalar_ref const*, dmap::array_ref const*) {});
}

template dmap::record with_scalar<std::int16_t>(dmap::record const&, std::string const&, std::int16_t);
template dmap::record with_scalar<float>(dmap::record const&, std::string const&, float);
template dmap::record with_array<std::int16_t>(dmap::record const&, std::string const&, std::vector<std::int32_t>,
                                               std::vector<std::int16_t> const&);
template dmap::record with_array<float>(dmap::record const&, std::string const&, std::vector<std::int32_t>,
                                        std::vector<float> const&);

std::vector<dmap::record> const& borealis_records() {
  static std::vector<dmap::record> const recs = [] {
    auto r = dmap::read_file(rstx::test::shared_path("data/real/test.rawacf").string());
    if (!r) throw std::runtime_error(r.error().message());
    return std::move(*r);
  }();
  return recs;
}

}  // namespace rstx::fit::test
