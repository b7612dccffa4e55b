// anybit/kernels/x86_target_end.hpp — closes the region opened by x86_target_begin.hpp.
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#undef ANYBIT_X86_TARGET
