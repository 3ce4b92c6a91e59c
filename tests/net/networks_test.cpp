// Networks (net/networks.hpp): where worker routes may be called from.
#include "net/networks.hpp"

#include <gtest/gtest.h>

namespace flowstone::net {
namespace {

TEST(Networks, LoopbackAlwaysAndConfiguredBlocksOnly) {
  Networks none;
  EXPECT_TRUE(none.Allows("127.0.0.1"));
  EXPECT_TRUE(none.Allows("127.8.9.10"));
  EXPECT_TRUE(none.Allows("::1"));
  EXPECT_TRUE(none.Allows("::ffff:127.0.0.1"));
  EXPECT_FALSE(none.Allows("10.1.2.3"));
  EXPECT_FALSE(none.Allows(""));
  EXPECT_FALSE(none.Allows("not an address"));

  Networks site;
  ASSERT_EQ(site.Add({"10.0.0.0/8", "192.168.7.9", "fd00::/8"}), "");
  EXPECT_TRUE(site.Allows("10.1.2.3"));
  EXPECT_TRUE(site.Allows("::ffff:10.200.0.1")) << "an IPv4 client seen through an IPv6 socket";
  EXPECT_TRUE(site.Allows("192.168.7.9"));
  EXPECT_FALSE(site.Allows("192.168.7.10"));
  EXPECT_TRUE(site.Allows("fd12::1"));
  EXPECT_FALSE(site.Allows("2001:db8::1"));
  EXPECT_FALSE(site.Allows("11.0.0.1"));
  EXPECT_EQ(site.Describe(), "loopback, 10.0.0.0/8, 192.168.7.9/32, fd00::/8");
}

TEST(Networks, AnEntryThatIsNoBlockIsNamed) {
  Networks site;
  EXPECT_EQ(site.Add({"10.0.0.0/8", "10.0.0.0/33"}), "10.0.0.0/33");
  EXPECT_EQ(Networks().Add({"example.org"}), "example.org");
}

}  // namespace
}  // namespace flowstone::net

#include "net/rate_limiter.hpp"

namespace flowstone::net {
namespace {

TEST(RateLimiter, ABurstThenTheRatePerCallerIndependently) {
  RateLimiter limiter(/*rate_per_s=*/10, /*burst=*/3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow("a", 1000)) << i;
  EXPECT_FALSE(limiter.Allow("a", 1000)) << "past the burst";
  EXPECT_TRUE(limiter.Allow("b", 1000)) << "another caller has its own bucket";
  EXPECT_FALSE(limiter.Allow("a", 1050)) << "half a token after 50 ms";
  EXPECT_TRUE(limiter.Allow("a", 1100)) << "one token after 100 ms";
  EXPECT_TRUE(limiter.Allow("a", 5000));
  EXPECT_TRUE(limiter.Allow("a", 5000));
  EXPECT_TRUE(limiter.Allow("a", 5000));
  EXPECT_FALSE(limiter.Allow("a", 5000)) << "a long pause refills only up to the burst";
}

}  // namespace
}  // namespace flowstone::net
