#include "rstx/core/file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace rstx {

void fsync_directory(std::filesystem::path const& dir) noexcept {
  int const fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

result<void> write_file_atomically(std::filesystem::path const& path, std::string const& text) {
  std::string name = path.filename().string();
  name.insert(0, 1, '.');
  name.append(".tmp");
  auto const temp = path.parent_path() / name;
  int const fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return unexpected(os_failure("cannot create its temporary file " + temp.string(), errno).at(path.string()));
  bool ok = true;
  int e = 0;
  for (std::size_t done = 0; ok && done < text.size();) {
    ssize_t const n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      e = n < 0 ? errno : EIO;
    } else {
      done += static_cast<std::size_t>(n);
    }
  }
  if (ok && ::fsync(fd) != 0) {
    ok = false;
    e = errno;
  }
  if (::close(fd) != 0 && ok) {
    ok = false;
    e = errno;
  }
  if (ok && ::rename(temp.c_str(), path.c_str()) != 0) {
    ok = false;
    e = errno;
  }
  if (!ok) {
    ::unlink(temp.c_str());
    return unexpected(os_failure("cannot write", e).at(path.string()));
  }
  fsync_directory(path.parent_path());
  return {};
}

}  // namespace rstx
