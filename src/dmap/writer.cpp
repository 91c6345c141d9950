#include "rstx/dmap/writer.hpp"

#include <algorithm>
#include <atomic>
#include <bzlib.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <random>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>
#include <zlib.h>
#include <zstd.h>

#include <fmt/format.h>

#include "detail/bzip2_parallel.hpp"

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
      return unexpected(os_failure("write failed", errno));
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

/** bzip2 on several threads, still one standard stream (detail/bzip2_parallel.hpp). */
class parallel_bzip2_compressor final : public compressor {
 public:
  parallel_bzip2_compressor(int level, int threads) : enc_(level, threads) {}
  result<void> put(std::span<std::byte const> in, bool finish, std::vector<std::byte>& out) override {
    return enc_.put(in, finish, out);
  }

 private:
  detail::parallel_bzip2_encoder enc_;
};

class zstd_compressor final : public compressor {
 public:
  zstd_compressor(int level, int threads) : ctx_(ZSTD_createCCtx()) {
    if (ctx_ != nullptr) ZSTD_CCtx_setParameter(ctx_, ZSTD_c_compressionLevel, std::clamp(level, 1, 19));
    // libzstd's own workers (a library built without them refuses the setting: one thread then).
    if (ctx_ != nullptr && threads > 1) ZSTD_CCtx_setParameter(ctx_, ZSTD_c_nbWorkers, threads);
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
  int const threads = opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  switch (opt.comp) {
    case compression::bzip2:
      if (threads > 1) return std::make_unique<parallel_bzip2_compressor>(std::clamp(opt.level, 1, 9), threads);
      return std::make_unique<bzip2_compressor>(opt.level);
    case compression::gzip: return std::make_unique<gzip_compressor>(opt.level);
    case compression::zstd: return std::make_unique<zstd_compressor>(opt.level, threads);
    case compression::none: break;
  }
  return nullptr;
}

/**
 * Named temporary files of writers not yet committed, for remove_uncommitted_temporaries(), which
 * a signal handler calls: a fixed table of slots, claimed and released with atomics, so that the
 * handler touches no lock and no allocator.
 */
class temporary_registry {
 public:
  static constexpr std::size_t slots = 64;

  /** Registers a path; -1 when the table is full or the path too long (then it is not removed on signals). */
  int add(std::string const& path) noexcept {
    if (path.size() >= sizeof(slot{}.path)) return -1;
    for (std::size_t i = 0; i < slots; ++i) {
      int expected = free_;
      if (!table_[i].state.compare_exchange_strong(expected, claimed_, std::memory_order_acquire)) continue;
      std::memcpy(table_[i].path, path.c_str(), path.size() + 1);
      table_[i].state.store(published_, std::memory_order_release);
      return static_cast<int>(i);
    }
    return -1;
  }
  void remove(int i) noexcept {
    if (i >= 0) table_[static_cast<std::size_t>(i)].state.store(free_, std::memory_order_release);
  }
  void unlink_all() noexcept {
    for (auto& s : table_)
      if (s.state.load(std::memory_order_acquire) == published_) ::unlink(s.path);
  }

 private:
  static constexpr int free_ = 0, claimed_ = 1, published_ = 2;
  struct slot {
    std::atomic<int> state{free_};
    char path[4096] = {};
  };
  slot table_[slots];
};

temporary_registry& temporaries() noexcept {
  static temporary_registry registry;
  return registry;
}

/** The descriptor N that a path names when it is /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N or /proc/PID/fd/N of this process. */
std::optional<int> descriptor_named(std::string const& p) {
  if (p == "/dev/stdin") return 0;
  if (p == "/dev/stdout") return 1;
  if (p == "/dev/stderr") return 2;
  std::string_view rest;
  std::string const own = fmt::format("/proc/{}/fd/", ::getpid());
  for (std::string_view prefix : {std::string_view("/dev/fd/"), std::string_view("/proc/self/fd/"), std::string_view(own)})
    if (p.size() > prefix.size() && std::string_view(p).substr(0, prefix.size()) == prefix) rest = std::string_view(p).substr(prefix.size());
  if (rest.empty() || rest.size() > 9 || !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::stoi(std::string(rest));
}

/** Where a path leads: through its chain of symbolic links to a path that is not one (and may not exist), or to a descriptor of this process. */
struct destination {
  std::string path;
  std::optional<int> descriptor;
};
result<destination> follow_links(std::string const& path) {
  namespace fs = std::filesystem;
  std::string p = path;
  for (int hop = 0; hop < 40; ++hop) {
    if (auto fd = descriptor_named(p)) return destination{p, fd};
    struct stat st{};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return destination{p, std::nullopt};
    std::vector<char> buf(static_cast<std::size_t>(std::max<off_t>(st.st_size, 255)) + 1);
    ssize_t const n = ::readlink(p.c_str(), buf.data(), buf.size());
    if (n < 0 || static_cast<std::size_t>(n) >= buf.size())
      return unexpected(os_failure(fmt::format("cannot read the symbolic link {}", p), errno).at(path));
    fs::path const target(std::string(buf.data(), static_cast<std::size_t>(n)));
    p = target.is_absolute() ? target.string() : (fs::path(p).parent_path() / target).string();
  }
  return unexpected(error(errc::io, "too many levels of symbolic links").at(path));
}

/** A fresh hidden name beside `target` for its temporary file: ".NAME.tmp-PID-XXXXXXXX". */
std::string temporary_name(std::filesystem::path const& target) {
  static thread_local std::random_device rd;
  std::filesystem::path const dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  return (dir / fmt::format(".{}.tmp-{}-{:08x}", target.filename().string(), ::getpid(), rd())).string();
}

}  // namespace

void remove_uncommitted_temporaries() noexcept { temporaries().unlink_all(); }

struct writer::impl {
  std::string name;          // the name given (errors), or "<stdout>"
  std::string final_path;    // where commit() puts the file: the name, or what its symbolic links lead to
  std::string temp_path;     // a named temporary file, removed unless committed
  bool anonymous = false;    // an unnamed temporary file (O_TMPFILE), linked in by commit()
  int registry_slot = -1;
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
    temporaries().remove(registry_slot);
  }

  [[nodiscard]] bool atomic() const noexcept { return anonymous || !temp_path.empty(); }

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

  /** Gives the new file the mode and owner of the file it replaces (an owner this process may not
   *  give away stays its own; the mode is kept all the same). */
  void keep_attributes_of(struct stat const& old) const noexcept {
    (void)::fchown(fd, old.st_uid, old.st_gid);
    (void)::fchmod(fd, old.st_mode & 07777);
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
  auto const dest = follow_links(path);
  if (!dest) return unexpected(dest.error());
  auto owned_fd = [&](int fd) {
    auto w = to_fd(fd, path, opt);
    w->impl_->owns_fd = true;
    return w;
  };
  // A descriptor this process holds (/dev/stdout, /proc/self/fd/1...) is written in place, as a
  // shell would: whatever it is open on keeps its name, position and append mode.
  if (dest->descriptor) {
    int const fd = ::fcntl(*dest->descriptor, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) return unexpected(os_failure(fmt::format("cannot use {}", dest->path), errno).at(path));
    return owned_fd(fd);
  }
  std::string const& target = dest->path;
  struct stat old{};
  bool const exists = ::stat(target.c_str(), &old) == 0;
  if (exists && S_ISDIR(old.st_mode)) return unexpected(error(errc::io, "is a directory").at(path));
  // A device or a pipe (/dev/null, a FIFO) is written in place: renaming a temporary file over it
  // would replace the device with a regular file.
  if (exists && !S_ISREG(old.st_mode)) {
    int const fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return unexpected(os_failure("cannot open", errno).at(path));
    return owned_fd(fd);
  }
  namespace fs = std::filesystem;
  fs::path const final_path(target);
  fs::path const dir = final_path.has_parent_path() ? final_path.parent_path() : fs::path(".");

  // An unnamed temporary file leaves nothing behind whatever ends the process (SIGKILL included);
  // commit() links it in. Not every filesystem has them, and linking needs /proc.
  if (opt.anonymous_temporary) {
    int const fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd >= 0) {
      if (::access(fmt::format("/proc/self/fd/{}", fd).c_str(), F_OK) == 0) {
        auto w = owned_fd(fd);
        w->impl_->anonymous = true;
        w->impl_->final_path = target;
        if (exists) w->impl_->keep_attributes_of(old);
        return w;
      }
      ::close(fd);
    } else if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOSYS) {
      return unexpected(
          os_failure(fmt::format("cannot create a temporary file in {}", dir.string()), errno)
              .at(path));
    }
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string const temp = temporary_name(final_path);
    int const fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return unexpected(
          os_failure(fmt::format("cannot create a temporary file in {}", dir.string()), errno)
              .at(path));
    }
    auto w = owned_fd(fd);
    w->impl_->temp_path = temp;
    w->impl_->final_path = target;
    w->impl_->registry_slot = temporaries().add(temp);
    if (exists) w->impl_->keep_attributes_of(old);
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
  if (!p.atomic()) {
    p.committed = true;
    return {};
  }
  auto failed = [&](std::string what, int e = 0) {
    return unexpected(p.with_name(error(errc::io, std::move(what)).with_os_error(e)));
  };
  if (::fsync(p.fd) != 0) return failed(fmt::format("fsync failed: {}", std::strerror(errno)), errno);
  std::filesystem::path const target(p.final_path);
  std::string const dir = target.has_parent_path() ? target.parent_path().string() : ".";
  if (p.anonymous) {
    // Give the file a temporary name beside the target (linkat cannot replace a file), then rename
    // it over the target like a named temporary file.
    for (int attempt = 0; attempt < 100 && p.temp_path.empty(); ++attempt) {
      std::string const temp = temporary_name(target);
      if (::linkat(AT_FDCWD, fmt::format("/proc/self/fd/{}", p.fd).c_str(), AT_FDCWD, temp.c_str(), AT_SYMLINK_FOLLOW) == 0)
        p.temp_path = temp;
      else if (errno != EEXIST)
        return failed(fmt::format("cannot link the new file into {}: {}", dir, std::strerror(errno)), errno);
    }
    if (p.temp_path.empty()) return failed("cannot find a free temporary file name");
  }
  if (::close(p.fd) != 0) {
    p.fd = -1;
    return failed(fmt::format("close failed: {}", std::strerror(errno)), errno);
  }
  p.fd = -1;
  if (::rename(p.temp_path.c_str(), p.final_path.c_str()) != 0)
    return failed(fmt::format("cannot rename {} into place: {}", p.temp_path, std::strerror(errno)), errno);
  p.committed = true;
  temporaries().remove(std::exchange(p.registry_slot, -1));
  // Make the rename itself durable.
  if (int const dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

std::int64_t writer::records_written() const noexcept { return impl_->records; }
std::string const& writer::target_name() const noexcept { return impl_->name; }

}  // namespace rstx::dmap
