// Parallel bzip2 (src/dmap/bzip2_parallel.cpp): the bytes it decodes are libbz2's, for every
// thread count, every compression level, files made by bzip2, pbzip2 and rstx, with magics cut
// into the data; its errors are the sequential decoder's; what it encodes is byte-identical to
// libbz2's own stream (and to the bzip2 program's).
#include <bzlib.h>
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "detail/bzip2_parallel.hpp"
#include "detail/source.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"
#include "support/test_data.hpp"

namespace rstx::dmap {
namespace {

using bytes = std::vector<std::byte>;

struct decoded {
  bytes data;
  std::optional<error> err;
};

decoded decode(bytes const& in, int threads, bool recover = false, std::vector<std::int64_t> cuts = {}) {
  auto src = threads == 1 && cuts.empty()
                 ? detail::make_decompressor(compression::bzip2, detail::make_memory_source(in))
                 : detail::make_parallel_bzip2_source(detail::make_memory_source(in), {threads, recover, std::move(cuts)});
  decoded d;
  std::vector<std::byte> buf(65536 + 17);  // an odd size: reads end mid-block
  for (int guard = 0; guard < 1000000; ++guard) {
    auto got = src->read(buf.data(), buf.size());
    if (!got) {
      d.err = got.error();
      return d;
    }
    if (*got == 0) return d;
    d.data.insert(d.data.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*got));
  }
  ADD_FAILURE() << "the decoder does not end";
  return d;
}

/** 20 copies of the shared real rawacf: 1.5 MB of real samples, two bzip2 blocks even at -9. */
bytes big_plain() {
  static bytes const b = [] {
    auto one = test::read_bytes(test::shared_path("data/real/test.rawacf"));
    bytes all;
    for (int i = 0; i < 20; ++i) all.insert(all.end(), one.begin(), one.end());
    return all;
  }();
  return b;
}

std::filesystem::path scratch() {
  static auto const dir = test::scratch_dir("bzip2_parallel");
  return dir;
}

std::filesystem::path write_scratch(std::string const& name, bytes const& b) {
  auto p = scratch() / name;
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<char const*>(b.data()), static_cast<std::streamsize>(b.size()));
  return p;
}

/** Runs a compressor program on `plain` ("bzip2 -9", "pbzip2 -p3 -1"...) and returns its output. */
bytes compressed_by(std::string const& program, bytes const& plain) {
  auto const in = write_scratch("plain.bin", plain);
  auto const out = in.parent_path() / "made.bz2";
  auto r = test::run(program + " -c " + test::quoted(in) + " > " + test::quoted(out));
  EXPECT_EQ(r.status, 0) << program;
  return test::read_bytes(out);
}

/** libbz2 streaming: BZ_RUN for every piece, BZ_FINISH at the end (what the writer did before). */
bytes libbz2_stream(bytes const& plain, int level, std::vector<std::size_t> const& pieces) {
  bz_stream s{};
  EXPECT_EQ(BZ2_bzCompressInit(&s, level, 0, 0), BZ_OK);
  bytes out;
  std::vector<char> buf(1 << 16);
  std::size_t at = 0;
  for (std::size_t k = 0; k <= pieces.size(); ++k) {
    bool const last = k == pieces.size();
    std::size_t const n = last ? plain.size() - at : pieces[k];
    s.next_in = const_cast<char*>(reinterpret_cast<char const*>(plain.data() + at));
    s.avail_in = static_cast<unsigned>(n);
    at += n;
    for (;;) {
      s.next_out = buf.data();
      s.avail_out = static_cast<unsigned>(buf.size());
      int const rc = BZ2_bzCompress(&s, last ? BZ_FINISH : BZ_RUN);
      auto const* b = reinterpret_cast<std::byte const*>(buf.data());
      out.insert(out.end(), b, b + (buf.size() - s.avail_out));
      if (rc == BZ_STREAM_END || (!last && s.avail_in == 0)) break;
      EXPECT_TRUE(rc == BZ_RUN_OK || rc == BZ_FINISH_OK) << rc;
    }
  }
  BZ2_bzCompressEnd(&s);
  return out;
}

bytes parallel_encode(bytes const& plain, int level, int threads, std::vector<std::size_t> const& pieces) {
  detail::parallel_bzip2_encoder enc(level, threads);
  bytes out;
  std::size_t at = 0;
  for (std::size_t k = 0; k <= pieces.size(); ++k) {
    bool const last = k == pieces.size();
    std::size_t const n = last ? plain.size() - at : pieces[k];
    EXPECT_TRUE(enc.put(std::span(plain).subspan(at, n), last, out));
    at += n;
  }
  return out;
}

TEST(Bzip2Parallel, DecodesTheSharedFilesAsLibbz2WithAnyThreadCount) {
  for (auto const& f : test::shared_dmap_files()) {
    if (f.extension() != ".bz2") continue;
    auto const in = test::read_bytes(f);
    auto const want = decode(in, 1);
    ASSERT_FALSE(want.err) << f;
    for (int t = 2; t <= 7; ++t) {
      auto const got = decode(in, t);
      EXPECT_FALSE(got.err) << f << " threads " << t << ": " << got.err->message();
      EXPECT_TRUE(got.data == want.data) << f << " threads " << t;
    }
  }
}

TEST(Bzip2Parallel, DecodesBzip2LevelsOneToNineAndPbzip2AndRstxOutput) {
  auto const plain = big_plain();
  std::vector<std::pair<std::string, bytes>> files;
  for (int level = 1; level <= 9; ++level) files.emplace_back("bzip2 -" + std::to_string(level), compressed_by("bzip2 -" + std::to_string(level), plain));
  files.emplace_back("pbzip2 -p3 -1", compressed_by("pbzip2 -p3 -1", plain));  // many streams, one after another
  files.emplace_back("pbzip2 -p2 -9", compressed_by("pbzip2 -p2 -9", plain));
  for (int t : {1, 3}) {
    auto w = writer::create((scratch() / "rstx.bz2").string(), {.comp = compression::bzip2, .level = 2, .threads = t});
    ASSERT_TRUE(w);
    auto rd = reader::from_memory(plain, "plain");
    ASSERT_TRUE(rd);
    record r;
    while (*rd->next(r)) ASSERT_TRUE(w->write(r));
    ASSERT_TRUE(w->commit());
    files.emplace_back("rstx, " + std::to_string(t) + " thread(s)", test::read_bytes(scratch() / "rstx.bz2"));
  }
  for (auto const& [name, bz] : files) {
    for (int t = 1; t <= 7; ++t) {
      auto const got = decode(bz, t);
      ASSERT_FALSE(got.err) << name << ", threads " << t << ": " << got.err->message();
      EXPECT_TRUE(got.data == plain) << name << ", threads " << t;
    }
  }
}

TEST(Bzip2Parallel, MagicsInsideTheDataAreJoinedAway) {
  // A block magic can occur by chance inside compressed data (about once in 2^48 bit positions,
  // and no bzip2 header field can be made to hold one), so the chance cuts are forced here: at
  // every 1000003rd bit (up to 8 in one level-9 block), and at 8 random bits, in strict and in recover mode, on one- and multi-stream
  // files. The decoder must join the pieces back and give the same bytes.
  auto const plain = big_plain();
  std::mt19937_64 rng(7);
  for (auto const& program : {std::string("bzip2 -1"), std::string("bzip2 -9"), std::string("pbzip2 -p2 -1")}) {
    auto const bz = compressed_by(program, plain);
    std::int64_t const bits = static_cast<std::int64_t>(bz.size()) * 8;
    std::vector<std::int64_t> regular, random;
    for (std::int64_t b = 1000003; b < bits; b += 1000003) regular.push_back(b);
    for (int i = 0; i < 8; ++i) random.push_back(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(bits)));
    for (auto const& cuts : {regular, random}) {
      for (bool recover : {false, true}) {
        auto const got = decode(bz, 3, recover, cuts);
        ASSERT_FALSE(got.err) << program << ": " << got.err->message();
        EXPECT_TRUE(got.data == plain) << program;
      }
    }
  }
}

TEST(Bzip2Parallel, MagicsEverywhereAreDamageNotAnEndlessSearch) {
  // A hostile file can hold the magic every few bytes. Joining gives up after 16 pieces, so the
  // work stays linear: a clean error, or in recover mode the blocks skipped and the end reached.
  auto const bz = compressed_by("bzip2 -1", big_plain());
  std::vector<std::int64_t> dense;
  for (std::int64_t b = 997; b < static_cast<std::int64_t>(bz.size()) * 8; b += 997) dense.push_back(b);
  auto const strict = decode(bz, 2, false, dense);
  ASSERT_TRUE(strict.err);
  EXPECT_EQ(strict.err->code, errc::decompress) << strict.err->message();
  auto const recovered = decode(bz, 2, true, dense);
  EXPECT_FALSE(recovered.err) << recovered.err->message();
  EXPECT_LT(recovered.data.size(), big_plain().size());
}

TEST(Bzip2Parallel, DamageAndTruncationGiveTheSequentialErrors) {
  auto const plain = big_plain();
  auto const bz = compressed_by("bzip2 -1", plain);  // 15 blocks
  auto same_outcome = [&](bytes const& in, std::string const& what) {
    auto const seq = decode(in, 1);
    auto const par = decode(in, 4);
    ASSERT_TRUE(seq.err) << what;
    ASSERT_TRUE(par.err) << what;
    EXPECT_EQ(par.err->code, seq.err->code) << what << ": " << par.err->message() << " / " << seq.err->message();
    // The bytes before the damage come out first, block by block (libbz2 streams further into
    // the damaged block before it sees the damage).
    ASSERT_LE(par.data.size(), seq.data.size()) << what;
    EXPECT_TRUE(std::equal(par.data.begin(), par.data.end(), seq.data.begin())) << what;
    EXPECT_GE(par.data.size() + 900000, seq.data.size()) << what;
  };
  for (std::size_t cut : {std::size_t{3}, std::size_t{4}, std::size_t{10}, bz.size() / 3, bz.size() / 2, bz.size() - 11,
                          bz.size() - 5, bz.size() - 1}) {
    same_outcome(bytes(bz.begin(), bz.begin() + static_cast<std::ptrdiff_t>(cut)), "cut at " + std::to_string(cut));
  }
  for (std::size_t at : {std::size_t{20}, bz.size() / 4, bz.size() / 2, bz.size() - 20}) {
    auto b = bz;
    for (std::size_t i = at; i < std::min(at + 50, b.size()); ++i) b[i] ^= std::byte{0x5a};
    same_outcome(b, "damage at " + std::to_string(at));
  }
  auto junk = bz;
  for (char c : std::string("junk after the stream")) junk.push_back(static_cast<std::byte>(c));
  same_outcome(junk, "junk");
  auto const par = decode(junk, 4);
  EXPECT_TRUE(par.data == plain);
  EXPECT_NE(par.err->what.find("unexpected data after the end of the bzip2 stream"), std::string::npos) << par.err->what;
}

TEST(Bzip2Parallel, RecoverSkipsTheDamagedBlockAndKeepsTheRest) {
  auto const one = test::read_bytes(test::shared_path("data/real/test.rawacf"));
  auto const plain = big_plain();
  auto bz = compressed_by("bzip2 -1", plain);
  for (std::size_t i = bz.size() / 2; i < bz.size() / 2 + 40; ++i) bz[i] ^= std::byte{0x33};
  auto count = [&](int threads) {
    auto rd = reader::from_memory(bz, "damaged.rawacf.bz2", {.recover = true, .threads = threads});
    EXPECT_TRUE(rd);
    record r;
    int n = 0;
    for (;;) {
      auto got = rd->next(r);
      if (!got || !*got) break;
      ++n;
    }
    return n;
  };
  int const records_per_copy = [&] {
    auto rd = reader::from_memory(one, "one");
    record r;
    int n = 0;
    while (*rd->next(r)) ++n;
    return n;
  }();
  int const total = records_per_copy * 20;
  int const sequential = count(1);  // the stream dies at the damage
  int const parallel = count(4);    // one 100 kB block lost, the records on both sides kept
  EXPECT_LT(sequential, total * 2 / 3);
  EXPECT_GT(parallel, sequential);
  EXPECT_GE(parallel, total - 4);
  EXPECT_LT(parallel, total);
}

TEST(Bzip2Parallel, EncodesByteIdenticalToLibbz2ForEveryLevelThreadCountAndFeeding) {
  // Real samples, and runs of every length around bzip2's run-length limits (4 and 255), so that
  // block ends fall inside runs.
  std::mt19937_64 rng(3);
  bytes runs;
  while (runs.size() < 2'500'000) {
    auto const c = static_cast<std::byte>(rng() % 3);
    std::size_t const len = rng() % 8 == 0 ? 250 + rng() % 12 : 1 + rng() % 6;
    runs.insert(runs.end(), len, c);
  }
  for (bytes const* input : {static_cast<bytes const*>(&runs), static_cast<bytes const*>(nullptr)}) {
    bytes const plain = input ? *input : big_plain();
    for (int level : {1, 2, 5, 9}) {
      std::vector<std::size_t> pieces;  // uneven writes, as the DMAP writer makes them
      for (std::size_t at = 0, n = 0; at + (n = 1 + rng() % 300000) < plain.size(); at += n) pieces.push_back(n);
      auto const want = libbz2_stream(plain, level, pieces);
      for (int threads : {2, 3, 7}) {
        auto const got = parallel_encode(plain, level, threads, pieces);
        EXPECT_TRUE(got == want) << (input ? "runs" : "rawacf") << " level " << level << " threads " << threads
                                 << ": " << got.size() << " vs " << want.size() << " bytes";
      }
      auto const whole = parallel_encode(plain, level, 4, {});
      EXPECT_TRUE(whole == libbz2_stream(plain, level, {})) << "level " << level << ", one write";
      EXPECT_TRUE(decode(whole, 3).data == plain);
    }
  }
  // And the bzip2 program's output.
  auto const plain = big_plain();
  EXPECT_TRUE(parallel_encode(plain, 9, 3, {65536, 100000}) == compressed_by("bzip2 -9", plain));
  EXPECT_TRUE(parallel_encode({}, 9, 3, {}) == libbz2_stream({}, 9, {}));  // an empty stream
}

TEST(Bzip2Parallel, ZstdWithWorkersReadsBack) {
  auto const plain = big_plain();
  auto const path = scratch() / "mt.zst";
  auto w = writer::create(path.string(), {.comp = compression::zstd, .level = 3, .threads = 4});
  ASSERT_TRUE(w);
  auto rd = reader::from_memory(plain, "plain");
  record r;
  int n = 0;
  while (*rd->next(r)) {
    ASSERT_TRUE(w->write(r));
    ++n;
  }
  ASSERT_TRUE(w->commit());
  auto back = read_file(path.string());
  ASSERT_TRUE(back);
  EXPECT_EQ(static_cast<int>(back->size()), n);
  auto const z = test::run("zstd -dc " + test::quoted(path));
  auto const* zb = reinterpret_cast<std::byte const*>(z.out.data());
  EXPECT_TRUE(bytes(zb, zb + z.out.size()) == plain);
}

}  // namespace
}  // namespace rstx::dmap
