// The `slurm` provider device end to end: a real one-node Slurm cluster (slurmctld, slurmd and munged on
// 127.0.0.1, started and stopped by tests/system/slurm_cluster.sh in a folder of the test's own), a guest
// and a host `flowstone serve`, and a host that runs its tasks through a provider registered with device
// slurm. Skipped, saying why, where the Slurm daemons are not installed (CI installs slurm-wlm and munge).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

namespace fs = std::filesystem;

const std::string kCluster = std::string(FLOWSTONE_SOURCE_DIR) + "/tests/system/slurm_cluster.sh";
const std::string kProvider = "cluster:1.0@slurm";

// Slurm's one-line record of a job (`scontrol -o show job ID`), empty if it has none.
std::string slurm_record(const std::string& slurm_job) {
  std::string out;
  int status = run_command("scontrol -o show job " + slurm_job + " 2>/dev/null", &out);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? out : "";
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

class Slurm : public SitesTest {
 protected:
  void SetUp() override {
    for (const char* daemon : {"/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged"})
      if (::access(daemon, X_OK) != 0)
        GTEST_SKIP() << daemon << " is not installed: the slurm device test needs a Slurm cluster "
                     << "(Debian: apt-get install slurm-wlm munge; .ci/install-deps does)";
    // One cluster at a time on this machine: ctest -j2 may run two of these tests at once, and two slurmd
    // daemons with this host's node name did not both come up (one stayed "unk*").
    lock_fd_ = ::open("/tmp/flowstone-slurm-tests.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0666);
    ASSERT_GE(lock_fd_, 0);
    ASSERT_EQ(::flock(lock_fd_, LOCK_EX), 0);
    char dir_template[] = "/tmp/flowstone-slurm-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    cluster_dir_ = dir_template;
    std::string out;
    int status = run_command(kCluster + " start " + cluster_dir_, &out);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the Slurm cluster did not start:\n" << out;
    // The servers, their launchers, sbatch and this test's scontrol all find the cluster through it.
    ::setenv("SLURM_CONF", (cluster_dir_ + "/slurm.conf").c_str(), 1);
  }

  void TearDown() override {
    servers.clear();  // the servers, then whatever launchers and workers they left
    if (!cluster_dir_.empty()) StopCluster();
    if (lock_fd_ >= 0) ::close(lock_fd_);  // the next test's cluster may start
  }

  void StopCluster() {
    std::string out;
    int status = run_command(kCluster + " stop " + cluster_dir_, &out);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "stopping the Slurm cluster:\n" << out;
    ::unsetenv("SLURM_CONF");
    if (!std::getenv("FLOWSTONE_KEEP_TEST_DIRS")) {
      std::error_code ec;
      fs::remove_all(cluster_dir_, ec);
    }
  }

  // A guest and a host; the host has the slurm provider registered.
  void start_parties() {
    add(kGuest);
    add(kHost);
    connect(federation_yaml(/*create_timeout_ms=*/3000));
    ASSERT_NO_FATAL_FAILURE(start_all());
    Json provider = {
        {"name", "cluster"},
        {"version", "1.0"},
        {"device", "slurm"},
        {"metadata", {{"partition", "debug"}}},
        {"components_description", {{"noop", Json::object()}, {"noop_consumer", Json::object()}}}};
    Json registered = host().post("provider/register", provider);
    ASSERT_EQ(code_of(registered), 0) << registered.dump();
  }
  PartyServer& guest() { return *servers[0]; }
  PartyServer& host() { return *servers[1]; }

  // a_0 then b_0 (a consumer of a_0's model) at guest and host; the host's copies run through Slurm, and
  // its a_0 gets `host_a_params`.
  static Json job_dag(const Json& host_a_params = Json::object()) {
    Json dag = make_dag(Json{{"a_0", noop_task()}, {"b_0", consumer_task("a_0")}},
                        Json{{"scheduler_party_id", kGuest}, {"auto_retries", 0}}, guest_and_host());
    Json tasks = Json::object();
    if (!host_a_params.empty()) tasks["a_0"] = {{"parameters", host_a_params}};
    dag["dag"]["party_tasks"] = host_party_tasks(tasks);
    dag["dag"]["party_tasks"]["h"]["conf"] = {{"provider", kProvider}};
    return dag;
  }

  std::string host_task_dir(const std::string& job_id, const std::string& task) {
    return host().task_dir(job_id, task, 0, "host", kHost);
  }
  // The Slurm job id the host's launcher recorded for the task, once it did ("" after 20 s).
  std::string wait_slurm_job(const std::string& job_id, const std::string& task) {
    const std::string file = host_task_dir(job_id, task) + "/slurm_job_id";
    std::string id;
    poll_until(
        [&] {
          id = trimmed(read_text(file));
          return !id.empty();
        },
        20s);
    return id;
  }
  // The Slurm job's name: flowstone-<execution id>, the execution id being
  // <task_id>_<version>_<role>_<party>.
  std::string slurm_name(const std::string& job_id, const std::string& task) {
    std::string task_id = host().task_rows(job_id, "host")[task].value("task_id", "");
    return "flowstone-" + task_id + "_0_host_" + kHost;
  }
  // Submits job_dag(host_a_params) and waits until the host's a_0 runs as a Slurm job.
  void submit_running(const Json& host_a_params, std::string* job_id, std::string* slurm_job) {
    *job_id = submit_ok(guest(), job_dag(host_a_params));
    ASSERT_FALSE(job_id->empty());
    *slurm_job = wait_slurm_job(*job_id, "a_0");
    ASSERT_FALSE(slurm_job->empty()) << diagnostics(*job_id);
    ASSERT_TRUE(slurm_state_is(*slurm_job, "RUNNING")) << diagnostics(*job_id);
  }
  // The job's copies at guest and host both end with `status` within `deadline`.
  void expect_ended_everywhere(const std::string& job_id, const std::string& status,
                               std::chrono::milliseconds deadline) {
    for (auto [server, role] : {std::pair{&guest(), "guest"}, std::pair{&host(), "host"}}) {
      Json row = wait_end(*server, job_id, role, deadline);
      EXPECT_EQ(row.value("status", ""), status) << role << " " << row.dump(2) << diagnostics(job_id);
    }
  }
  ::testing::AssertionResult slurm_state_is(const std::string& slurm_job, const std::string& state) {
    std::string record;
    if (poll_until(
            [&] {
              record = slurm_record(slurm_job);
              return contains(record, "JobState=" + state + " ");
            },
            20s))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "slurm job " << slurm_job << " never " << state << ": " << record;
  }

  std::string cluster_dir_;
  int lock_fd_ = -1;
};

// The host's tasks run as Slurm jobs named after the job and task, with the task's cores, and report
// through the worker API: the job succeeds at both parties; the guest's tasks stay local.
TEST_F(Slurm, HostTasksRunAsSlurmJobs) {
  ASSERT_NO_FATAL_FAILURE(start_parties());
  std::string job_id = submit_ok(guest(), job_dag());
  ASSERT_FALSE(job_id.empty());
  expect_ended_everywhere(job_id, "success", 60s);
  auto host_tasks = host().task_rows(job_id, "host");
  for (const std::string task : {"a_0", "b_0"}) {
    EXPECT_EQ(host_tasks[task].value("provider_name", ""), kProvider) << host_tasks[task].dump(2);
    std::string slurm_job = trimmed(read_text(host_task_dir(job_id, task) + "/slurm_job_id"));
    ASSERT_FALSE(slurm_job.empty()) << task << " did not go through Slurm" << diagnostics(job_id);
    std::string record = slurm_record(slurm_job);
    EXPECT_TRUE(contains(record, "JobName=" + slurm_name(job_id, task) + " ")) << record;
    EXPECT_TRUE(contains(record, "JobState=COMPLETED ")) << record;
    EXPECT_TRUE(contains(record, "Partition=debug ")) << record;
    EXPECT_TRUE(contains(record, "WorkDir=" + host_task_dir(job_id, task) + " ")) << record;
  }
  auto guest_tasks = guest().task_rows(job_id, "guest");
  EXPECT_EQ(guest_tasks["a_0"].value("provider_name", ""), "flowstone") << guest_tasks["a_0"].dump(2);
  EXPECT_FALSE(fs::exists(guest().task_dir(job_id, "a_0") + "/slurm_job_id"));
  EXPECT_TRUE(no_task_process_left(host()));
  EXPECT_TRUE(no_task_process_left(guest()));
}

// A task whose Slurm job is cancelled (scancel by its name, as an operator would) fails with Slurm's word
// for it, and so does the job at both parties.
TEST_F(Slurm, ScancelFailsTheTaskWithSlurmsReason) {
  ASSERT_NO_FATAL_FAILURE(start_parties());
  std::string job_id, slurm_job;
  ASSERT_NO_FATAL_FAILURE(submit_running({{"sleep", 60}}, &job_id, &slurm_job));

  std::string out;
  int status = run_command("scancel --name " + slurm_name(job_id, "a_0") + " 2>&1", &out);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_TRUE(slurm_state_is(slurm_job, "CANCELLED"));

  expect_ended_everywhere(job_id, "failed", 30s);
  Json a = host().task_rows(job_id, "host")["a_0"];
  EXPECT_EQ(a.value("party_status", ""), "failed") << a.dump(2);
  std::string error = a.value("error_report", "");
  EXPECT_TRUE(contains(error, "slurm job " + slurm_job + " ended CANCELLED"))
      << a.dump(2) << diagnostics(job_id);
  EXPECT_TRUE(no_task_process_left(host()));
  EXPECT_TRUE(no_task_process_left(guest()));
}

// Stopping the job stops its Slurm job too: the host's launcher is told to stop and runs scancel.
TEST_F(Slurm, StoppingTheJobCancelsItsSlurmJob) {
  ASSERT_NO_FATAL_FAILURE(start_parties());
  std::string job_id, slurm_job;
  ASSERT_NO_FATAL_FAILURE(submit_running({{"sleep", 60}}, &job_id, &slurm_job));

  Json stop = guest().post("job/stop", {{"job_id", job_id}});
  ASSERT_EQ(code_of(stop), 0) << stop.dump();
  EXPECT_TRUE(slurm_state_is(slurm_job, "CANCELLED")) << diagnostics(job_id);
  expect_ended_everywhere(job_id, "canceled", 30s);
  EXPECT_TRUE(contains(
      read_text(host().data_dir() + "/logs/" + job_id + "/host/" + kHost + "/a_0/task_entrypoint.stderr"),
      "cancelled slurm job " + slurm_job))
      << diagnostics(job_id);
  EXPECT_TRUE(no_task_process_left(host()));
}

// The host crashes, and its launcher with it, while a task runs as a Slurm job: the restarted host finds
// the job still running in Slurm, adopts it (no second run), and the job succeeds.
TEST_F(Slurm, RestartAdoptsARunningSlurmJob) {
  ASSERT_NO_FATAL_FAILURE(start_parties());
  std::string job_id, slurm_job;
  ASSERT_NO_FATAL_FAILURE(submit_running({{"sleep", 5}}, &job_id, &slurm_job));
  pid_t launcher = host().wait_pid_file(host_task_dir(job_id, "a_0"), "launcher.pid", 5s);
  ASSERT_GT(launcher, 0);

  host().kill9();
  ::kill(launcher, SIGKILL);
  ASSERT_TRUE(poll_until([&] { return !pid_running(launcher); }, 10s));
  ASSERT_EQ(host().restart(), "") << diagnostics(job_id);

  expect_ended_everywhere(job_id, "success", 45s);
  auto versions = host().task_versions(job_id, "a_0", "host");
  EXPECT_EQ(versions.size(), 1u) << "adopted, not run again";
  EXPECT_TRUE(contains(read_text(host().data_dir() + "/logs/flowstone.log"),
                       "slurm job " + slurm_job + " goes on: adopted"))
      << "not adopted through Slurm's state" << diagnostics(job_id);
  EXPECT_TRUE(contains(slurm_record(slurm_job), "JobState=COMPLETED "));
  EXPECT_TRUE(no_task_process_left(host()));
}

}  // namespace
}  // namespace flowstone::systest
