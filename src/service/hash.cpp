#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "rstx/service/job.hpp"

namespace rstx::service {

result<std::string> sha256_file(std::filesystem::path const& p) {
  int const fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return unexpected(os_failure("cannot open", errno).at(p.string()));
  std::unique_ptr<int, void (*)(int*)> guard(new int(fd), [](int* f) {
    ::close(*f);
    delete f;
  });
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return unexpected(error(errc::internal, "cannot start a SHA-256 digest").at(p.string()));
  std::vector<unsigned char> buffer(1 << 20);
  for (;;) {
    ssize_t const got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      return unexpected(os_failure("read failed", errno).at(p.string()));
    }
    if (got == 0) break;
    EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(got));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &n);
  std::string hex;
  hex.reserve(2 * n);
  for (unsigned int i = 0; i < n; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace rstx::service
