// The one doctest main shared by every test suite.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/test_support.hpp"
