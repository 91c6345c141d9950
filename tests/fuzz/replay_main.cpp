// Runs fuzz inputs through LLVMFuzzerTestOneInput without libFuzzer, so that ctest can replay the
// corpus (and every former crash) under GCC with ASan/UBSan. Arguments: files or directories.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size);

namespace {
int run_file(std::filesystem::path const& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  int n = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path const p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (auto const& e : std::filesystem::recursive_directory_iterator(p))
        if (e.is_regular_file()) n += run_file(e.path());
    } else if (std::filesystem::is_regular_file(p)) {
      n += run_file(p);
    }
  }
  std::printf("replayed %d input(s)\n", n);
  return n > 0 ? 0 : 1;
}
