// Include ldns through this header. Unless stdbool.h came first, ldns/common.h #defines
// bool, true and false as macros in C++, which breaks standard headers included after it
// (e.g. <optional>'s operator<=>).
#pragma once

// The order is the point of this header.
// clang-format off
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers): defines __bool_true_false_are_defined
#include <ldns/ldns.h>
// clang-format on
