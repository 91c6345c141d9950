// Hardware and tdiff table parsers on arbitrary text.
#include <string_view>

#include "rstx/radar/hardware.hpp"

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view const text(reinterpret_cast<char const*>(data), size);
  auto sites = rstx::radar::parse_hardware(text, 66, "<fuzz>");
  if (sites) {
    rstx::radar::radar_entry r;
    r.stid = 66;
    r.sites = *sites;
    (void)r.site_at(1.6e9);
  }
  (void)rstx::radar::tdiff_table::parse(text, "<fuzz>");
  return 0;
}
