// The dispatch point between algorithms: the only place that knows which ones exist.
#include "rstx/fit/fit.hpp"

#include "rstx/fit/fitacf3.hpp"
#if defined(RSTX_HAVE_FITACF25)
#include "rstx/fit/fitacf25.hpp"
#endif

namespace rstx::fit {

bool algorithm_available(fit_algorithm a) noexcept {
  switch (a) {
    case fit_algorithm::fitacf3: return true;
    case fit_algorithm::fitacf25:
#if defined(RSTX_HAVE_FITACF25)
      return true;
#else
      return false;
#endif
  }
  return false;
}

char const* algorithm_name(fit_algorithm a) noexcept {
  return a == fit_algorithm::fitacf3 ? "fitacf3" : "fitacf2";
}

result<host_fit_batch> fit_records(acf_batch_view const& in, fit_options const& opt, exec_context const& ctx,
                                     host_fit_batch reuse) {
  switch (opt.algorithm) {
    case fit_algorithm::fitacf3: {
      fitacf3_options o;
      o.elevation = opt.elevation;
      return fitacf3(in, o, ctx, std::move(reuse));
    }
    case fit_algorithm::fitacf25: {
#if defined(RSTX_HAVE_FITACF25)
      fitacf25_options o;
      o.old_elevation = opt.elevation != elevation_method::v2;  // goose is chosen by stid inside
      return fitacf25(in, o, ctx, std::move(reuse));
#else
      return fail(errc::unsupported, "FITACF 2.5 (-fitacf2) is not implemented in rstx yet; use -fitacf3");
#endif
    }
  }
  return fail(errc::internal, "unknown fitting algorithm");
}

}  // namespace rstx::fit
