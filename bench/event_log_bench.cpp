// EventLog append throughput with WAL sync: one blocking writer (one fsync per append) versus many
// concurrent blocking writers whose appends the writer thread folds into group commits.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "store/event_log.hpp"

namespace {

using flowstone::store::AppendRequest;
using flowstone::store::AppendResult;
using flowstone::store::EventLog;
using flowstone::store::Options;

// Shared by the threads of one benchmark run; thread 0 sets it up before the timed loop and tears it
// down after (the benchmark library puts a barrier at both ends of the loop).
std::unique_ptr<EventLog> g_log;
std::string g_dir;
std::atomic<int> g_errors{0};

const std::string& Payload() {
  static const std::string payload(200, 'x');
  return payload;
}

void SetUpLog(bool sync) {
  char tmpl[] = "/tmp/flowstone_event_log_bench_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) std::abort();
  g_dir = tmpl;
  Options options;
  options.sync = sync;
  options.view_families = {"jobs"};
  auto status = EventLog::Open(g_dir, options, &g_log);
  if (!status.ok()) std::abort();
  g_errors = 0;
}

void TearDownLog(benchmark::State& state) {
  g_log.reset();
  std::filesystem::remove_all(g_dir);
  if (g_errors.load() != 0) state.SkipWithError("appends failed");
}

// Each thread appends one ~200-byte event per iteration to its own stream and waits for it.
void RunAppends(benchmark::State& state, bool sync) {
  if (state.thread_index() == 0) SetUpLog(sync);
  std::string stream = "bench-" + std::to_string(state.thread_index());
  uint64_t version = 0;
  for (auto _ : state) {
    AppendRequest request;
    request.stream = stream;
    request.expected_version = version;
    request.events.push_back(Payload());
    AppendResult r = g_log->Append(std::move(request));
    if (!r.status.ok()) g_errors++;
    version = r.stream_version;
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) TearDownLog(state);
}

// (a) one thread, one event per append, each waiting for its own fsync.
void BM_AppendSingleSync(benchmark::State& state) {
  RunAppends(state, true);
}
BENCHMARK(BM_AppendSingleSync)->UseRealTime()->Unit(benchmark::kMicrosecond);

// (b) group commit: n threads each blocking on their own append; the writer batches them per fsync.
void BM_GroupCommitSync(benchmark::State& state) {
  RunAppends(state, true);
}
BENCHMARK(BM_GroupCommitSync)
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Reference: the same without fsync (not durable), to show what the sync costs.
void BM_GroupCommitNoSync(benchmark::State& state) {
  RunAppends(state, false);
}
BENCHMARK(BM_GroupCommitNoSync)->Threads(1)->Threads(8)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
