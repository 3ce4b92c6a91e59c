// Old logs replay as they did. Every fixture under tests/fixtures/ (written by tests/fixtures/
// make_log_fixture.sh with the build of its day: three real parties after the demo and more jobs) is imported
// into a fresh log by this build, its views are rebuilt from the events alone, and every view row must be
// the one the writing build rebuilt, byte for byte. A schema change that stops an old event from decoding,
// or a domain change that makes an old event mean something else, fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "events/common/json.hpp"
#include "store/export.hpp"
#include "store/projections.hpp"

namespace flowstone::store {
namespace {

namespace fs = std::filesystem;

// Every party folder of every fixture (a folder holding events.jsonl and views.jsonl).
std::vector<fs::path> fixture_parties() {
  std::vector<fs::path> out;
  const fs::path root = fs::path(FLOWSTONE_SOURCE_DIR) / "tests" / "fixtures";
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.path().filename() == "events.jsonl") out.push_back(entry.path().parent_path());
  std::sort(out.begin(), out.end());
  return out;
}

// Fields a later build added to view rows (only where they apply), with what they mean for an old log. A
// rebuilt row may carry them where the old row did not; every other byte must be the same.
//   end_undelivered: the scheduler of an ended job has no EndDelivered from a remote party (old logs
//                    have none, so their ended federated jobs are recovered once and their stops repeated).
const char* const kFieldsAddedLater[] = {"end_undelivered"};

// The rebuilt row without the later fields that the expected row lacks.
std::string without_later_fields(const std::string& rebuilt, const std::string& expected) {
  if (rebuilt == expected) return rebuilt;
  Json row = Json::parse(rebuilt, nullptr, false), old = Json::parse(expected, nullptr, false);
  if (!row.is_object() || !old.is_object()) return rebuilt;
  Json value = Json::parse(row.value("value", std::string()), nullptr, false);
  Json old_value = Json::parse(old.value("value", std::string()), nullptr, false);
  if (!value.is_object() || !old_value.is_object()) return rebuilt;
  for (const char* field : kFieldsAddedLater)
    if (!old_value.contains(field)) value.erase(field);
  // Only a later field differs: the row is the old one.
  return value.dump() == old_value.dump() ? expected : rebuilt;
}

std::vector<std::string> lines_of(std::istream& in) {
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

class LogFixture : public ::testing::TestWithParam<fs::path> {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/flowstone_fixture_XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    Options options;
    options.view_families = job_view_families();
    ASSERT_TRUE(EventLog::Open(dir_, options, &log_).ok());
  }
  void TearDown() override {
    log_.reset();
    fs::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<EventLog> log_;
};

TEST_P(LogFixture, ReplaysToTheSameViewsByteForByte) {
  const fs::path party = GetParam();
  std::ifstream events(party / "events.jsonl", std::ios::binary);
  ASSERT_TRUE(events) << party;
  size_t imported = 0;
  Status s = ImportLog(*log_, events, &imported);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_GT(imported, 0u);

  ProjectionReport report;
  ASSERT_TRUE(RebuildViews(*log_, &report).ok());
  EXPECT_TRUE(report.errors.empty()) << "an old event no longer decodes: " << report.errors.front();

  std::ostringstream dumped;
  ASSERT_TRUE(DumpViews(*log_, dumped).ok());
  std::istringstream rebuilt_text(dumped.str());
  std::ifstream expected_file(party / "views.jsonl", std::ios::binary);
  std::vector<std::string> rebuilt = lines_of(rebuilt_text), expected = lines_of(expected_file);
  for (size_t i = 0; i < std::min(rebuilt.size(), expected.size()); ++i)
    ASSERT_EQ(without_later_fields(rebuilt[i], expected[i]), expected[i])
        << party << ": view row " << i + 1 << " differs";
  EXPECT_EQ(rebuilt.size(), expected.size()) << party << ": another number of view rows";

  // The export of the imported log is the fixture again (the stored bytes are kept as they were).
  std::ostringstream exported;
  ASSERT_TRUE(ExportLog(*log_, exported).ok());
  std::ifstream original(party / "events.jsonl", std::ios::binary);
  std::stringstream original_text;
  original_text << original.rdbuf();
  EXPECT_TRUE(exported.str() == original_text.str()) << party << ": the export differs from the fixture";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LogFixture, ::testing::ValuesIn(fixture_parties()),
                         [](const ::testing::TestParamInfo<fs::path>& info) {
                           std::string name = info.param.parent_path().filename().string() + "_" +
                                              info.param.filename().string();
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace flowstone::store
