// RateLimiter: a token bucket per caller (a client's appId or address, a partner site's party id): `rate`
// requests a second on average, bursts up to `burst`. A caller past its rate is refused at the edge, so one
// busy client or site cannot crowd out the others. Buckets of callers silent for a minute are dropped.
//
// Thread rules: any thread; one short lock per request.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace flowstone::net {

class RateLimiter {
 public:
  RateLimiter(double rate_per_s, double burst) : rate_(rate_per_s), burst_(burst) {}

  // True (and one token taken) when `caller` may make a request at `now_ms`.
  bool Allow(const std::string& caller, int64_t now_ms);

 private:
  struct Bucket {
    double tokens = 0;
    int64_t at_ms = 0;
  };
  const double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  int64_t pruned_at_ms_ = 0;
};

}  // namespace flowstone::net
