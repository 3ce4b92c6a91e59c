// Metrics: this server's counters, gauges and histograms, rendered in Prometheus' text exposition format for
// GET /metrics. Families are declared once (name, type, help, histogram buckets); series are told apart by
// their label values. Gauges that mirror shared state (job board, reachability) are filled by collectors run
// at each scrape, so nothing polls.
//
// Thread rules: any thread; each call takes the registry's lock briefly (Render() copies the series under it
// and formats the copy). Collectors run inside Render(), without the lock, and must not call Render().
#pragma once
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace flowstone::actors {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { counter, gauge, histogram };

class Metrics {
 public:
  // Declares a family; a histogram takes its bucket upper bounds (ascending). Declaring twice keeps the
  // first.
  void Declare(const std::string& name, MetricType type, const std::string& help,
               std::vector<double> buckets = {});

  void Add(const std::string& name, const MetricLabels& labels, double delta = 1);  // counter
  void Set(const std::string& name, const MetricLabels& labels, double value);      // gauge
  void Observe(const std::string& name, const MetricLabels& labels, double value);  // histogram
  // Forgets every series of a gauge (a collector that sets the current ones after it).
  void Clear(const std::string& name);

  void AddCollector(std::function<void(Metrics&)> collect);

  std::string Render();

 private:
  struct Series {
    double value = 0;  // counter, gauge; a histogram's sum
    uint64_t count = 0;
    std::vector<uint64_t> bucket_counts;
  };
  struct Family {
    MetricType type;
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, Series> series;  // by rendered label set
  };
  Series* series(const std::string& name, const MetricLabels& labels);  // under mu_; null if undeclared

  std::mutex mu_;
  std::map<std::string, Family> families_;
  std::vector<std::function<void(Metrics&)>> collectors_;
};

// Bucket bounds for latencies in seconds, 100 µs to 10 s.
std::vector<double> latency_buckets();

}  // namespace flowstone::actors
