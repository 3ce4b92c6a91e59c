// FileRoots: a server-side path named in a request is resolved (symlinks, "..") before it is allowed.
#include "net/file_roots.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "net/api.hpp"

namespace flowstone::net {
namespace {

namespace fs = std::filesystem;

class FileRootsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/flowstone-roots-XXXXXX";
    dir = ::mkdtemp(tmpl);
    fs::create_directories(dir + "/root/sub");
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string dir;
};

TEST_F(FileRootsTest, PathsUnderARootAreResolvedAndAllowed) {
  FileRoots roots({dir + "/root"});
  std::string resolved;
  EXPECT_EQ(roots.Confine(dir + "/root/sub/x.csv", &resolved), "");
  EXPECT_EQ(resolved, fs::canonical(dir).string() + "/root/sub/x.csv");
  EXPECT_EQ(roots.Confine(dir + "/root/not/yet/made", &resolved), "") << "an export target may not exist yet";
}

TEST_F(FileRootsTest, ClimbingSymlinksSiblingsAndRelativePathsAreRefused) {
  FileRoots roots({dir + "/root"});
  std::string resolved;
  EXPECT_NE(roots.Confine(dir + "/root/../outside", &resolved), "");
  EXPECT_NE(roots.Confine(dir + "/rootish/x", &resolved), "") << "a sibling sharing the prefix";
  EXPECT_NE(roots.Confine("relative/x", &resolved), "");
  fs::create_symlink("/etc", dir + "/root/etc");
  EXPECT_NE(roots.Confine(dir + "/root/etc/passwd", &resolved), "");
  EXPECT_NE(roots.Confine("", &resolved), "");
}

TEST(Loopback, OnlyThisMachinesAddressesCount) {
  ApiRequest request;
  for (const char* local : {"127.0.0.1", "127.5.6.7", "::1", "::ffff:127.0.0.1"}) {
    request.remote_address = local;
    EXPECT_TRUE(request.from_loopback()) << local;
  }
  for (const char* remote : {"10.0.0.1", "192.168.1.2", "::ffff:10.0.0.1", "", "1270.0.0.1"}) {
    request.remote_address = remote;
    EXPECT_FALSE(request.from_loopback()) << remote;
  }
}

}  // namespace
}  // namespace flowstone::net
