// check.h - the smallest test "framework": a failed check prints file:line and
// aborts (non-zero exit, and a core/backtrace under a debugger or valgrind).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      fflush(stderr);                                                        \
      abort();                                                               \
    }                                                                        \
  } while (0)

#define CHECK_EQ(a, b)                                                              \
  do {                                                                              \
    long long check_a_ = static_cast<long long>(a);                                 \
    long long check_b_ = static_cast<long long>(b);                                 \
    if (check_a_ != check_b_) {                                                     \
      fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", __FILE__, \
              __LINE__, #a, #b, check_a_, check_b_);                                \
      fflush(stderr);                                                               \
      abort();                                                                      \
    }                                                                               \
  } while (0)

#define CHECK_STREQ(a, b)                                                               \
  do {                                                                                  \
    const char* check_a_ = (a);                                                         \
    const char* check_b_ = (b);                                                         \
    if (strcmp(check_a_, check_b_) != 0) {                                              \
      fprintf(stderr, "%s:%d: CHECK_STREQ failed: %s == %s (\"%s\" vs \"%s\")\n",        \
              __FILE__, __LINE__, #a, #b, check_a_, check_b_);                          \
      fflush(stderr);                                                                   \
      abort();                                                                          \
    }                                                                                   \
  } while (0)

// Each test file: a list of `static void test_x()` run from main with TEST(x).
#define TEST(name)                                  \
  do {                                              \
    fprintf(stderr, "- %s\n", #name);               \
    test_##name();                                  \
  } while (0)
