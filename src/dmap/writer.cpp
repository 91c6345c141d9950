#include "rstx/dmap/writer.hpp"

#include <bzlib.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <random>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>
#include <zlib.h>
#include <zstd.h>

#include <fmt/format.h>

namespace rstx::dmap {

compression compression_for_path(std::string_view path) noexcept {
  auto ends = [&](std::string_view s) { return path.size() > s.size() && path.substr(path.size() - s.size()) == s; };
  if (ends(".bz2")) return compression::bzip2;
  if (ends(".gz")) return compression::gzip;
  if (ends(".zst")) return compression::zstd;
  return compression::none;
}

namespace {

constexpr std::size_t buffer_bytes = std::size_t{1} << 20;

result<void> write_all(int fd, std::byte const* p, std::size_t n) {
  while (n > 0) {
    ssize_t const k = ::write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return fail(errc::io, fmt::format("write failed: {}", std::strerror(errno)));
    }
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return {};
}

/** Compresses into a byte vector that the writer then writes out. */
class compressor {
 public:
  virtual ~compressor() = default;
  /** Compresses `in` (finish: also ends the stream) and appends the output to `out`. */
  virtual result<void> put(std::span<std::byte const> in, bool finish, std::vector<std::byte>& out) = 0;
};

class bzip2_compressor final : public compressor {
 public:
  explicit bzip2_compressor(int level) {
    ok_ = BZ2_bzCompressInit(&s_, std::clamp(level, 1, 9), 0, 0) == BZ_OK;
  }
  ~bzip2_compressor() override {
    if (ok_) BZ2_bzCompressEnd(&s_);
  }
  bzip2_compressor(bzip2_compressor const&) = delete;
  bzip2_compressor& operator=(bzip2_compressor const&) = delete;

  result<void> put(std::span<std::byte const> in, bool finish, std::vector<std::byte>& out) override {
    if (!ok_) return fail(errc::io, "cannot initialise bzip2 compression");
    s_.next_in = const_cast<char*>(reinterpret_cast<char const*>(in.data()));
    s_.avail_in = static_cast<unsigned>(in.size());
    for (;;) {
      std::size_t const before = out.size();
      out.resize(before + buffer_bytes);
      s_.next_out = reinterpret_cast<char*>(out.data() + before);
      s_.avail_out = static_cast<unsigned>(buffer_bytes);
      int const rc = BZ2_bzCompress(&s_, finish ? BZ_FINISH : BZ_RUN);
      out.resize(before + buffer_bytes - s_.avail_out);
      if (rc == BZ_STREAM_END) return {};
      if (rc != BZ_RUN_OK && rc != BZ_FINISH_OK) return fail(errc::io, "bzip2 compression failed");
      if (!finish && s_.avail_in == 0) return {};
    }
  }

 private:
  bz_stream s_{};
  bool ok_ = false;
};

class gzip_compressor final : public compressor {
 public:
  explicit gzip_compressor(int level) {
    ok_ = deflateInit2(&s_, std::clamp(level, 1, 9), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~gzip_compressor() override {
    if (ok_) deflateEnd(&s_);
  }
  gzip_compressor(gzip_compressor const&) = delete;
  gzip_compressor& operator=(gzip_compressor const&) = delete;

  result<void> put(std::span<std::byte const> in, bool finish, std::vector<std::byte>& out) override {
    if (!ok_) return fail(errc::io, "cannot initialise gzip compression");
    s_.next_in = const_cast<Bytef*>(reinterpret_cast<Bytef const*>(in.data()));
    s_.avail_in = static_cast<uInt>(in.size());
    for (;;) {
      std::size_t const before = out.size();
      out.resize(before + buffer_bytes);
      s_.next_out = reinterpret_cast<Bytef*>(out.data() + before);
      s_.avail_out = static_cast<uInt>(buffer_bytes);
      int const rc = deflate(&s_, finish ? Z_FINISH : Z_NO_FLUSH);
      out.resize(before + buffer_bytes - s_.avail_out);
      if (rc == Z_STREAM_END) return {};
      if (rc != Z_OK && rc != Z_BUF_ERROR) return fail(errc::io, "gzip compression failed");
      if (!finish && s_.avail_in == 0 && s_.avail_out != 0) return {};
    }
  }

 private:
  z_stream s_{};
  bool ok_ = false;
};

class zstd_compressor final : public compressor {
 public:
  explicit zstd_compressor(int level) : ctx_(ZSTD_createCCtx()) {
    if (ctx_ != nullptr) ZSTD_CCtx_setParameter(ctx_, ZSTD_c_compressionLevel, std::clamp(level, 1, 19));
  }
  ~zstd_compressor() override { ZSTD_freeCCtx(ctx_); }
  zstd_compressor(zstd_compressor const&) = delete;
  zstd_compressor& operator=(zstd_compressor const&) = delete;

  result<void> put(std::span<std::byte const> in, bool finish, std::vector<std::byte>& out) override {
    if (ctx_ == nullptr) return fail(errc::io, "cannot initialise zstd compression");
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    for (;;) {
      std::size_t const before = out.size();
      out.resize(before + buffer_bytes);
      ZSTD_outBuffer ob{out.data() + before, buffer_bytes, 0};
      std::size_t const rc = ZSTD_compressStream2(ctx_, &ob, &ib, finish ? ZSTD_e_end : ZSTD_e_continue);
      out.resize(before + ob.pos);
      if (ZSTD_isError(rc)) return fail(errc::io, fmt::format("zstd compression failed: {}", ZSTD_getErrorName(rc)));
      if (finish ? rc == 0 : ib.pos == ib.size) return {};
    }
  }

 private:
  ZSTD_CCtx* ctx_;
};

std::unique_ptr<compressor> make_compressor(writer_options const& opt) {
  switch (opt.comp) {
    case compression::bzip2: return std::make_unique<bzip2_compressor>(opt.level);
    case compression::gzip: return std::make_unique<gzip_compressor>(opt.level);
    case compression::zstd: return std::make_unique<zstd_compressor>(opt.level);
    case compression::none: break;
  }
  return nullptr;
}

}  // namespace

struct writer::impl {
  std::string name;          // final path, or "<stdout>"
  std::string temp_path;     // empty unless writing atomically to a path
  int fd = -1;
  bool owns_fd = false;
  bool committed = false;
  std::unique_ptr<compressor> comp;
  std::vector<std::byte> pending;     // encoded records not yet compressed/written
  std::vector<std::byte> compressed;  // compressor output not yet written
  std::int64_t records = 0;

  impl() = default;
  impl(impl const&) = delete;
  impl& operator=(impl const&) = delete;
  ~impl() {
    if (owns_fd && fd >= 0) ::close(fd);
    if (!committed && !temp_path.empty()) ::unlink(temp_path.c_str());
  }

  result<void> drain(bool finish) {
    if (comp) {
      compressed.clear();
      if (auto s = comp->put(pending, finish, compressed); !s) return s;
      pending.clear();
      return write_all(fd, compressed.data(), compressed.size());
    }
    auto s = write_all(fd, pending.data(), pending.size());
    pending.clear();
    return s;
  }

  error with_name(error e) const { return std::move(e).at(name); }
};

writer::writer(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
writer::writer(writer&&) noexcept = default;
writer& writer::operator=(writer&&) noexcept = default;
writer::~writer() = default;

result<writer> writer::to_fd(int fd, std::string name, writer_options const& opt) {
  auto p = std::make_unique<impl>();
  p->name = std::move(name);
  p->fd = fd;
  p->comp = make_compressor(opt);
  p->pending.reserve(buffer_bytes);
  return writer(std::move(p));
}

result<writer> writer::create(std::string const& path, writer_options const& opt) {
  if (path == "-") return to_fd(STDOUT_FILENO, "<stdout>", opt);
  // A device or a pipe (/dev/null, /dev/stdout, a FIFO) is written in place: renaming a
  // temporary file over it would replace the device with a regular file.
  if (struct stat st{}; ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    int const fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return unexpected(error(errc::io, fmt::format("cannot open: {}", std::strerror(errno))).at(path));
    auto w = to_fd(fd, path, opt);
    w->impl_->owns_fd = true;
    return w;
  }
  namespace fs = std::filesystem;
  fs::path const target(path);
  fs::path const dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string const temp =
        (dir / fmt::format(".{}.tmp-{}-{:08x}", target.filename().string(), ::getpid(), rd())).string();
    int const fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return unexpected(
          error(errc::io, fmt::format("cannot create a temporary file in {}: {}", dir.string(), std::strerror(errno)))
              .at(path));
    }
    auto w = to_fd(fd, path, opt);
    w->impl_->owns_fd = true;
    w->impl_->temp_path = temp;
    return w;
  }
  return unexpected(error(errc::io, "cannot find a free temporary file name").at(path));
}

result<void> writer::write(record const& r) {
  if (auto s = r.encode_to(impl_->pending); !s) return unexpected(impl_->with_name(std::move(s.error())));
  ++impl_->records;
  if (impl_->pending.size() >= buffer_bytes) {
    if (auto s = impl_->drain(false); !s) return unexpected(impl_->with_name(std::move(s.error())));
  }
  return {};
}

result<void> writer::write_bytes(std::span<std::byte const> bytes) {
  impl_->pending.insert(impl_->pending.end(), bytes.begin(), bytes.end());
  if (impl_->pending.size() >= buffer_bytes) {
    if (auto s = impl_->drain(false); !s) return unexpected(impl_->with_name(std::move(s.error())));
  }
  return {};
}

result<void> writer::commit() {
  auto& p = *impl_;
  if (p.committed) return {};
  if (auto s = p.drain(true); !s) return unexpected(p.with_name(std::move(s.error())));
  if (p.temp_path.empty()) {
    p.committed = true;
    return {};
  }
  if (::fsync(p.fd) != 0)
    return unexpected(p.with_name(error(errc::io, fmt::format("fsync failed: {}", std::strerror(errno)))));
  if (::close(p.fd) != 0) {
    p.fd = -1;
    return unexpected(p.with_name(error(errc::io, fmt::format("close failed: {}", std::strerror(errno)))));
  }
  p.fd = -1;
  if (::rename(p.temp_path.c_str(), p.name.c_str()) != 0)
    return unexpected(p.with_name(error(errc::io, fmt::format("cannot rename {} into place: {}", p.temp_path,
                                                              std::strerror(errno)))));
  p.committed = true;
  // Make the rename itself durable.
  std::filesystem::path const target(p.name);
  std::string const dir = target.has_parent_path() ? target.parent_path().string() : ".";
  if (int const dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

std::int64_t writer::records_written() const noexcept { return impl_->records; }
std::string const& writer::target_name() const noexcept { return impl_->name; }

}  // namespace rstx::dmap
