// Prometheus text exposition (version 0.0.4): "# HELP", "# TYPE", one line per series, histograms as
// cumulative _bucket lines with le="+Inf", then _sum and _count.
#include "actors/metrics/metrics.hpp"

#include <cmath>
#include <sstream>
#include <string>

namespace flowstone::actors {
namespace {

// Label values escape backslash, double quote and newline (the format's rule); HELP text escapes
// backslash and newline.
std::string escaped(const std::string& text, bool quotes) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string label_text(const MetricLabels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    out += out.empty() ? "" : ",";
    out += name + "=\"" + escaped(value, true) + "\"";
  }
  return out;
}

std::string number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  // The shortest of 15 or 17 digits that reads back as the same double ("0.1", not "0.10000000000000001").
  for (int digits : {15, 17}) {
    std::ostringstream out;
    out.precision(digits);
    out << value;
    if (digits == 17 || std::stod(out.str()) == value) return out.str();
  }
  return "";
}

// `labels` plus one more (le for a bucket), in braces; "" when there are none.
std::string braces(const std::string& labels, const std::string& extra = "") {
  std::string inner = labels;
  if (!extra.empty()) inner += (inner.empty() ? "" : ",") + extra;
  return inner.empty() ? "" : "{" + inner + "}";
}

const char* type_name(MetricType type) {
  switch (type) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

std::vector<double> latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

void Metrics::Declare(const std::string& name, MetricType type, const std::string& help,
                      std::vector<double> buckets) {
  std::lock_guard<std::mutex> lock(mu_);
  families_.emplace(name, Family{type, help, std::move(buckets), {}});
}

Metrics::Series* Metrics::series(const std::string& name, const MetricLabels& labels) {
  auto family = families_.find(name);
  if (family == families_.end()) return nullptr;
  Series& s = family->second.series[label_text(labels)];
  if (family->second.type == MetricType::histogram && s.bucket_counts.empty())
    s.bucket_counts.assign(family->second.buckets.size(), 0);
  return &s;
}

void Metrics::Add(const std::string& name, const MetricLabels& labels, double delta) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Series* s = series(name, labels)) s->value += delta;
}

void Metrics::Set(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Series* s = series(name, labels)) s->value = value;
}

void Metrics::Observe(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  Series* s = series(name, labels);
  if (!s) return;
  const std::vector<double>& bounds = families_.at(name).buckets;
  for (size_t i = 0; i < bounds.size(); ++i)
    if (value <= bounds[i]) ++s->bucket_counts[i];
  s->value += value;
  ++s->count;
}

void Metrics::Clear(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto family = families_.find(name); family != families_.end()) family->second.series.clear();
}

void Metrics::AddCollector(std::function<void(Metrics&)> collect) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string Metrics::Render() {
  std::vector<std::function<void(Metrics&)>> collectors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect(*this);

  // A copy is formatted, so the writers that record (the event log's, the HTTP edge's) wait only for it.
  std::map<std::string, Family> families;
  {
    std::lock_guard<std::mutex> lock(mu_);
    families = families_;
  }
  std::string out;
  for (const auto& [name, family] : families) {
    out += "# HELP " + name + " " + escaped(family.help, false) + "\n";
    out += "# TYPE " + name + " " + type_name(family.type) + "\n";
    for (const auto& [labels, s] : family.series) {
      if (family.type != MetricType::histogram) {
        out += name + braces(labels) + " " + number(s.value) + "\n";
        continue;
      }
      for (size_t i = 0; i < family.buckets.size(); ++i)
        out += name + "_bucket" + braces(labels, "le=\"" + number(family.buckets[i]) + "\"") + " " +
               std::to_string(s.bucket_counts[i]) + "\n";
      out += name + "_bucket" + braces(labels, "le=\"+Inf\"") + " " + std::to_string(s.count) + "\n";
      out += name + "_sum" + braces(labels) + " " + number(s.value) + "\n";
      out += name + "_count" + braces(labels) + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

}  // namespace flowstone::actors
