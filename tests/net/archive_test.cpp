// Archives (tar, tar.gz, zip) and multipart forms, as the file routes use them.
#include "net/archive.hpp"

#include <gtest/gtest.h>

#include "net/multipart.hpp"

namespace flowstone::net {
namespace {

TEST(Archive, EveryFormatRoundTripsItsEntries) {
  std::vector<ArchiveEntry> entries{
      {"a/model.json", "{\"w\": [1, 2]}"}, {"a/model.json.meta.yaml", "k: v\n"}, {"empty", ""}};
  for (auto format : {ArchiveFormat::tar, ArchiveFormat::tar_gz, ArchiveFormat::zip}) {
    std::string bytes;
    ASSERT_EQ(write_archive(format, entries, &bytes), "");
    std::vector<ArchiveEntry> back;
    ASSERT_EQ(read_archive(bytes, &back), "");
    ASSERT_EQ(back.size(), entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      EXPECT_EQ(back[i].name, entries[i].name);
      EXPECT_EQ(back[i].data, entries[i].data);
    }
  }
}

TEST(Archive, BytesThatAreNotAnArchiveOrClimbOutAreRefused) {
  std::vector<ArchiveEntry> out;
  EXPECT_NE(read_archive("id,x\n1,2\n", &out), "");
  std::string bytes;
  ASSERT_EQ(write_archive(ArchiveFormat::tar, {{"../../etc/passwd", "x"}}, &bytes), "");
  EXPECT_NE(read_archive(bytes, &out).find("unsafe"), std::string::npos);
}

TEST(Archive, InflatingPastTheLimitsStopsAndHoldsNothing) {
  std::string bomb;
  ASSERT_EQ(write_archive(ArchiveFormat::tar_gz, {{"zeros", std::string(8 << 20, '\0')}}, &bomb), "");
  std::vector<ArchiveEntry> out;
  std::string error = read_archive(bomb, &out, ArchiveLimits{1 << 20, 100});
  EXPECT_EQ(error.rfind(kArchiveTooLarge, 0), 0u) << error;
  EXPECT_TRUE(out.empty());
  std::vector<ArchiveEntry> many(5, ArchiveEntry{"", "x"});
  for (size_t i = 0; i < many.size(); ++i) many[i].name = "f" + std::to_string(i);
  std::string crowded;
  ASSERT_EQ(write_archive(ArchiveFormat::zip, many, &crowded), "");
  EXPECT_EQ(read_archive(crowded, &out, ArchiveLimits{1 << 20, 4}).rfind(kArchiveTooLarge, 0), 0u);
  EXPECT_EQ(read_archive(crowded, &out, ArchiveLimits{1 << 20, 5}), "");
}

// A file's bytes may hold CRLF, a dash run and NUL: none of them ends the part.
const std::string kBinary("\r\n--x\0y", 7);

TEST(Multipart, BuiltFormsParseBackWithFieldsAndFiles) {
  std::string type;
  std::string body =
      build_multipart({{"model_id", "", "", "m1"}, {"file", "m.tar", "application/x-tar", kBinary}}, &type);
  Form form;
  ASSERT_EQ(parse_multipart(type, body, &form), "");
  EXPECT_EQ(form.fields["model_id"], "m1");
  ASSERT_EQ(form.files.count("file"), 1u);
  EXPECT_EQ(form.files["file"].filename, "m.tar");
  EXPECT_EQ(form.files["file"].data, kBinary);
}

TEST(Multipart, MalformedBodiesAreRefused) {
  Form form;
  EXPECT_NE(parse_multipart("application/json", "{}", &form), "");
  EXPECT_NE(parse_multipart("multipart/form-data", "x", &form), "");
  EXPECT_NE(parse_multipart("multipart/form-data; boundary=b",
                            "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end", &form),
            "");
}

}  // namespace
}  // namespace flowstone::net
