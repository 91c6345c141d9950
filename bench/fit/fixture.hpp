#pragma once
// The input of the in-process fit benchmarks: a rawacf file's records and their fit batch, with
// Clyde River's geometry as in hdw.dat.cly (the synthetic files are stid 66), so no tables are read.
#include <string>
#include <vector>

#include "rstx/dmap/record.hpp"
#include "rstx/fit/from_dmap.hpp"
#include "rstx/radar/hardware.hpp"

namespace rstx::bench {

struct rawacf_fixture {
  std::vector<dmap::record> records;
  radar::site site;
  fit::rawacf_batch batch;
};

/** Reads `path` once per process and converts it; throws std::runtime_error if it cannot be read. */
[[nodiscard]] rawacf_fixture const& load_rawacf_fixture(std::string const& path);

}  // namespace rstx::bench
