#include <gtest/gtest.h>

#include "rstx/cuda/device.hpp"

namespace rstx::cuda {
namespace {

TEST(CudaDevice, ProbeAnswersInEveryBuild) {
  auto d = devices();
  if (!compiled_with_cuda()) {
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, errc::unsupported);
    EXPECT_NE(d.error().what.find("no CUDA support"), std::string::npos);
    return;
  }
  // A CUDA build on a machine without a GPU (CI) sees an empty list or a driver error, never a crash.
  if (!d) {
    EXPECT_EQ(d.error().code, errc::cuda) << d.error().message();
    GTEST_SKIP() << "CUDA runtime unavailable here: " << d.error().message();
  }
  if (d->empty()) GTEST_SKIP() << "no CUDA device on this machine";
  for (auto const& dev : *d) {
    EXPECT_FALSE(dev.name.empty());
    EXPECT_GT(dev.memory_bytes, 0u);
    EXPECT_GE(dev.compute_major, 7);
    auto t = self_test(dev.index);
    EXPECT_TRUE(t) << t.error().message();
  }
}

TEST(CudaDevice, SelfTestWithoutCudaIsUnsupported) {
  if (compiled_with_cuda()) GTEST_SKIP() << "CUDA build";
  auto t = self_test(0);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, errc::unsupported);
}

}  // namespace
}  // namespace rstx::cuda
