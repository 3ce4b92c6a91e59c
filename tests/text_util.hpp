// Text checks shared by the test suites (tests/events, tests/system): failure reasons and messages are
// checked for what they name, not matched whole.
#pragma once
#include <cctype>
#include <cstddef>
#include <string>

namespace flowstone::test_util {

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Whether `n` appears in `text` as a whole number (not as part of a longer run of digits, like a job id).
inline bool names_number(const std::string& text, int n) {
  const std::string want = std::to_string(n);
  for (size_t i = 0; i < text.size();) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j - i == want.size() && text.compare(i, j - i, want) == 0) return true;
    i = j;
  }
  return false;
}

}  // namespace flowstone::test_util
