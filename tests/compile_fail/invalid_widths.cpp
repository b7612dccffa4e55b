// Compiled once per ANYBIT_CF_CASE_* macro by tests/compile_fail/CMakeLists.txt.
// Every case but `valid` must fail with "anybit: bit-width must be in 1..8".
#include "anybit/core/bits.hpp"
#include "anybit/tensor/bitplane_tensor.hpp"

int main() {
#if defined(ANYBIT_CF_CASE_valid)
  anybit::bitplane_tensor<8> t(1, 1);
  return anybit::bits_c<1>::value + t.bits() == 9 ? 0 : 1;
#elif defined(ANYBIT_CF_CASE_bits_c_0)
  return anybit::bits_c<0>::value;
#elif defined(ANYBIT_CF_CASE_bits_c_9)
  return anybit::bits_c<9>::value;
#elif defined(ANYBIT_CF_CASE_tensor_0)
  anybit::bitplane_tensor<0> t(1, 1, 0);
  return t.bits();
#elif defined(ANYBIT_CF_CASE_tensor_9)
  anybit::bitplane_tensor<9> t(1, 1, 9);
  return t.bits();
#elif defined(ANYBIT_CF_CASE_tensor_negative)
  anybit::bitplane_tensor<-2> t(1, 1, 1);
  return t.bits();
#else
#error "no ANYBIT_CF_CASE_* selected"
#endif
}
