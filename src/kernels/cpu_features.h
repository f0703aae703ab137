// Runtime choice of the instruction set the kernels use: the best the CPU supports, or one
// forced by tests (to compare every SIMD path against the scalar one) or by WISP_ISA=scalar|avx2|avx512.
#pragma once

namespace wisp {

enum class Isa { Scalar, Avx2, Avx512 };

const char* isa_name(Isa isa);
// Whether this CPU can run kernels built for `isa`.
bool cpu_supports(Isa isa);
// The instruction set the kernels use now.
Isa active_isa();
// Makes the kernels use `isa` (which the CPU must support; throws wisp::Error otherwise).
void force_isa(Isa isa);
// AVX512-VNNI (vpdpbusd), for the int8 kernel's VNNI variant.
bool cpu_has_avx512_vnni();
// GFNI and AVX512-BITALG (vgf2p8affineqb, vpshufbitqmb), for the int8 kernel's 512-bit q5_0r rows.
bool cpu_has_gfni_bitalg();

}  // namespace wisp
