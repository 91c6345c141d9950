#include "fixture.hpp"

#include <stdexcept>

#include "rstx/dmap/reader.hpp"

namespace rstx::bench {

rawacf_fixture const& load_rawacf_fixture(std::string const& path) {
  static rawacf_fixture const fixture = [&] {
    rawacf_fixture f;
    auto recs = dmap::read_file(path);
    if (!recs) throw std::runtime_error(recs.error().message());
    f.records = std::move(*recs);
    f.site.stid = 66;
    f.site.bmsep_deg = 3.24;
    f.site.interferometer_m = {0.0, 100.0, 0.0};
    f.site.maxbeam = 16;
    f.batch = fit::from_dmap(f.records, {}, {}, f.site, {}, {});
    return f;
  }();
  return fixture;
}

}  // namespace rstx::bench
