#include "net/rate_limiter.hpp"

#include <algorithm>

namespace flowstone::net {

bool RateLimiter::Allow(const std::string& caller, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (now_ms - pruned_at_ms_ > 60000) {
    for (auto it = buckets_.begin(); it != buckets_.end();)
      it = now_ms - it->second.at_ms > 60000 ? buckets_.erase(it) : std::next(it);
    pruned_at_ms_ = now_ms;
  }
  auto [it, fresh] = buckets_.try_emplace(caller, Bucket{burst_, now_ms});
  Bucket& bucket = it->second;
  if (!fresh) {
    const double elapsed_s = static_cast<double>(std::max<int64_t>(0, now_ms - bucket.at_ms)) / 1000.0;
    bucket.tokens = std::min(burst_, bucket.tokens + elapsed_s * rate_);
    bucket.at_ms = now_ms;
  }
  if (bucket.tokens < 1.0) return false;
  bucket.tokens -= 1.0;
  return true;
}

}  // namespace flowstone::net
