#include "output/timestamp_format.h"

#include <cmath>
#include <cstdio>

#include "wisp/error.h"

namespace wisp::output {

int64_t python_round(double x) {
  if (!std::isfinite(x) || std::fabs(x) >= 9.2e18) {
    throw Error("cannot round the time " + std::to_string(x) + " to an integer; the result holds an invalid time");
  }
  const double floor = std::floor(x);
  const double fraction = x - floor;  // exact for every double
  double rounded = floor;
  if (fraction > 0.5 || (fraction == 0.5 && std::fmod(floor, 2.0) != 0.0)) rounded = floor + 1.0;
  return static_cast<int64_t>(rounded);
}

std::string format_timestamp(double seconds, bool always_include_hours, std::string_view decimal_marker) {
  if (!(seconds >= 0)) {
    throw Error("cannot format the negative timestamp " + std::to_string(seconds) +
                " s; the result holds an invalid time");
  }
  int64_t milliseconds = python_round(seconds * 1000.0);
  const int64_t hours = milliseconds / 3'600'000;
  milliseconds -= hours * 3'600'000;
  const int64_t minutes = milliseconds / 60'000;
  milliseconds -= minutes * 60'000;
  const int64_t whole_seconds = milliseconds / 1'000;
  milliseconds -= whole_seconds * 1'000;

  char buffer[64];
  std::string out;
  if (always_include_hours || hours > 0) {
    std::snprintf(buffer, sizeof buffer, "%02lld:", static_cast<long long>(hours));
    out += buffer;
  }
  std::snprintf(buffer, sizeof buffer, "%02lld:%02lld", static_cast<long long>(minutes),
                static_cast<long long>(whole_seconds));
  out += buffer;
  out += decimal_marker;
  std::snprintf(buffer, sizeof buffer, "%03lld", static_cast<long long>(milliseconds));
  out += buffer;
  return out;
}

}  // namespace wisp::output
