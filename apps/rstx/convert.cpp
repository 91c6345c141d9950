// rstx convert IN OUT: re-encode a DMAP file (plain <-> bzip2/gzip/zstd), optionally salvaging a
// damaged one with --recover. The output is written atomically.
#include <fmt/format.h>

#include "command.hpp"
#include "report.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"

namespace rstx::cli {

namespace {

struct convert_options {
  std::string in;
  std::string out;
  std::string compress;  // empty: from the output suffix
  int level = 9;
  bool recover = false;
  int threads = 0;
  dmap::reader_options reader;
};

int run_convert(convert_options const& o) {
  auto ro = o.reader;
  ro.recover = o.recover;
  ro.threads = o.threads;
  auto rd = dmap::reader::open(o.in, ro);
  if (!rd) return report("rstx convert", rd.error());
  dmap::writer_options wo;
  wo.level = o.level;
  wo.threads = o.threads;
  wo.comp = dmap::compression_for_path(o.out);
  if (o.compress == "none") wo.comp = dmap::compression::none;
  else if (o.compress == "bzip2") wo.comp = dmap::compression::bzip2;
  else if (o.compress == "gzip") wo.comp = dmap::compression::gzip;
  else if (o.compress == "zstd") wo.comp = dmap::compression::zstd;
  auto w = dmap::writer::create(o.out, wo);
  if (!w) return report("rstx convert", w.error());
  dmap::record r;
  for (;;) {
    auto got = rd->next(r);
    for_new_skips(*rd, [](dmap::skipped_region const& s) {
      warn("rstx convert", fmt::format("skipped {} damaged bytes at byte {}: {}", s.length, s.offset, s.reason.message()));
    });
    if (!got) return report("rstx convert", got.error());  // the writer discards its temporary file
    if (!*got) break;
    if (auto s = w->write(r); !s) return report("rstx convert", s.error());
  }
  if (auto s = w->commit(); !s) return report("rstx convert", s.error());
  if (auto const skips = rd->skipped_totals(); skips.stretches > 0)
    warn("rstx convert", fmt::format("{} record(s) written; {} damaged stretch(es) left out", w->records_written(),
                                     skips.stretches));
  return ok;
}

}  // namespace

void add_convert(CLI::App& app, int& exit_status) {
  auto o = std::make_shared<convert_options>();
  auto* cmd = app.add_subcommand("convert", "Re-encode a DMAP file (plain, bzip2, gzip, zstd), optionally salvaging it");
  cmd->add_option("input", o->in, "DMAP file, plain or compressed; - for standard input")->required();
  cmd->add_option("output", o->out, "Output file (written atomically); - for standard output")->required();
  cmd->add_option("--compress", o->compress, "Output compression (default: from the suffix .bz2/.gz/.zst)")
      ->check(CLI::IsMember({"none", "bzip2", "gzip", "zstd"}));
  cmd->add_option("--level", o->level, "Compression level")->check(CLI::Range(1, 19));
  cmd->add_flag("--recover", o->recover, "Skip damaged stretches (reported on stderr) and keep every valid record");
  cmd->add_option("--threads", o->threads,
                  "Threads that decompress and compress (bzip2 block by block, one standard stream out; zstd); "
                  "0 = all cores, 1 = one, as libbz2 streams it")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  add_reader_options(cmd, o->reader);
  cmd->footer("Without --recover a damaged input stops the conversion and leaves any existing output untouched.");
  cmd->callback([o, &exit_status] { exit_status = run_convert(*o); });
}

}  // namespace rstx::cli
