// Python's round(x, ndigits) for floats.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace wisp {

// `ndigits` in [0, 15] (clamped). CPython rounds the exact binary value of `x` to `ndigits` decimals (exact ties to even) and
// reads the decimal back; printf's "%.*f" rounds the exact value the same way, so printing and
// parsing gives Python's result bit for bit (unlike std::round(x * 100) / 100).
inline double py_round(double x, int ndigits) {
  char text[400];  // %.Nf of the largest double with N <= 15 fits
  if (ndigits < 0 || ndigits > 15) ndigits = ndigits < 0 ? 0 : 15;
  std::snprintf(text, sizeof text, "%.*f", ndigits, x);
  return std::strtod(text, nullptr);
}

}  // namespace wisp
