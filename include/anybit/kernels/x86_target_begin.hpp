// anybit/kernels/x86_target_begin.hpp — opens a region whose functions are compiled for the
// x86 features named by ANYBIT_X86_TARGET (e.g. "avx2,popcnt"); x86_target_end.hpp closes it.
// No include guard: included once per ISA header, around that ISA's code.
#ifndef ANYBIT_X86_TARGET
#error "define ANYBIT_X86_TARGET before including x86_target_begin.hpp"
#endif
#ifndef ANYBIT_DETAIL_PRAGMA
#define ANYBIT_DETAIL_PRAGMA2(x) _Pragma(#x)
#define ANYBIT_DETAIL_PRAGMA(x) ANYBIT_DETAIL_PRAGMA2(x)
#endif
#if defined(__clang__)
ANYBIT_DETAIL_PRAGMA(clang attribute push(__attribute__((target(ANYBIT_X86_TARGET))), apply_to = function))
#else
#pragma GCC push_options
ANYBIT_DETAIL_PRAGMA(GCC target(ANYBIT_X86_TARGET))
#endif
