// The one rule for ids that become parts of paths (events/ids.hpp).
#include "events/common/ids.hpp"

#include <gtest/gtest.h>

namespace flowstone::domain {
namespace {

TEST(Ids, JobIdsAreDigits) {
  EXPECT_EQ(id_problem(IdKind::job_id, "202611212306158222940"), "");
  EXPECT_NE(id_problem(IdKind::job_id, "../../etc"), "");
  EXPECT_NE(id_problem(IdKind::job_id, "12a"), "");
  EXPECT_NE(id_problem(IdKind::job_id, ""), "");
  EXPECT_NE(id_problem(IdKind::job_id, std::string(65, '1')), "");
}

TEST(Ids, NamesAreSafeWordsWithoutClimbing) {
  for (const char* good : {"experiment", "breast_hetero_guest", "2.1.0", "psi_0", "a-b", "9999"})
    EXPECT_EQ(id_problem(IdKind::name, good), "") << good;
  for (const char* bad : {"..", "a/b", "a\\b", ".hidden", "-rf", "a..b", "a b", "é"})
    EXPECT_NE(id_problem(IdKind::name, bad), "") << bad;
  EXPECT_NE(id_problem(IdKind::name, std::string("a\0b", 3)), "");
}

TEST(Ids, RolesAreLowerCaseWords) {
  EXPECT_EQ(id_problem(IdKind::role, "guest"), "");
  EXPECT_NE(id_problem(IdKind::role, "Guest"), "");
  EXPECT_NE(id_problem(IdKind::role, "../x"), "");
}

TEST(Ids, ParametersRefuseNulEverywhereAndClimbingOutsideFreeText) {
  EXPECT_NE(param_problem("anything", std::string("a\0", 2)), "");
  EXPECT_NE(param_problem("notes", std::string("a\0", 2)), "");
  EXPECT_NE(param_problem("file", "/data/../etc/passwd"), "");
  EXPECT_EQ(param_problem("notes", "see ../x, wait..."), "");
  EXPECT_EQ(param_problem("file", "/data/upload/x.csv"), "");
  EXPECT_EQ(param_problem("path", "../out", /*free_text=*/true), "") << "the CLI's own folder";
  EXPECT_NE(param_problem("path", std::string("a\0", 2), true), "");
  EXPECT_NE(param_problem("job_id", "abc"), "");
  EXPECT_EQ(param_problem("job_id", "123"), "");
}

TEST(Ids, DagPartyIdsAndTaskNamesAreChecked) {
  std::string field;
  Json good = {{"parties", {{{"role", "guest"}, {"party_id", {"9999"}}}}}, {"tasks", {{"psi_0", {}}}}};
  EXPECT_EQ(dag_id_problem(good, &field), "");
  Json bad_party = {{"parties", {{{"role", "guest"}, {"party_id", {"9999", "../x"}}}}}};
  EXPECT_NE(dag_id_problem(bad_party, &field), "");
  EXPECT_EQ(field, "dag.parties[0].party_id[1]");
  Json bad_task = {{"tasks", {{"a/b", {}}}}};
  EXPECT_NE(dag_id_problem(bad_task, &field), "");
  EXPECT_EQ(field, "dag.tasks.a/b");
}

}  // namespace
}  // namespace flowstone::domain
