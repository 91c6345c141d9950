#include "rstx/fit/batch.hpp"

namespace rstx::fit {

host_fit_batch::host_fit_batch(acf_batch_view const& in, fit_algorithm algorithm) { reset(in, algorithm); }

void host_fit_batch::reset(acf_batch_view const& in, fit_algorithm algorithm) {
  algorithm_ = algorithm;
  auto const ranges = static_cast<std::size_t>(in.n_ranges);
  rec_.assign(static_cast<std::size_t>(in.n_rec), record_result{});
  pwr0_db_.assign(ranges, 0.0F);
  for (auto* flags : {&qflg_, &gflg_, &x_qflg_, &x_gflg_}) flags->assign(ranges, 0);
  nlag_.assign(ranges, 0);
  cols_.assign(static_cast<std::size_t>(fit_column_count) * ranges, 0.0F);
  for (std::int32_t i = 0; i < in.n_rec; ++i) {
    auto& r = rec_[static_cast<std::size_t>(i)];
    r.range_begin = in.rec[i].range_begin;
    r.nrang = in.rec[i].nrang;
    r.xcf = in.rec[i].xcf;
  }
}

fit_batch_view host_fit_batch::view() noexcept {
  fit_batch_view v;
  v.n_rec = n_rec();
  v.n_ranges = n_ranges();
  v.algorithm = algorithm_;
  v.rec = rec_.data();
  v.pwr0_db = pwr0_db_.data();
  v.qflg = qflg_.data();
  v.gflg = gflg_.data();
  v.nlag = nlag_.data();
  v.x_qflg = x_qflg_.data();
  v.x_gflg = x_gflg_.data();
  for (int c = 0; c < fit_column_count; ++c)
    v.col[c] = cols_.data() + static_cast<std::size_t>(c) * pwr0_db_.size();
  return v;
}

}  // namespace rstx::fit
