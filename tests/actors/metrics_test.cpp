// Metrics (actors/metrics/metrics.hpp) as Prometheus reads them: counters and gauges by label set, cumulative
// histogram buckets with +Inf, _sum and _count, label values escaped, collectors run at each scrape.
#include "actors/metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace flowstone::actors {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Metrics, RendersTheTextExpositionFormat) {
  Metrics m;
  m.Declare("x_requests_total", MetricType::counter, "Requests\nby route");
  m.Declare("x_latency_seconds", MetricType::histogram, "Latency", {0.1, 1});
  m.Declare("x_up", MetricType::gauge, "Up");
  m.Add("x_requests_total", {{"route", "job/submit"}, {"code", "0"}});
  m.Add("x_requests_total", {{"route", "job/submit"}, {"code", "0"}}, 2);
  m.Add("x_requests_total", {{"route", "a\"b\\c\nd"}});
  m.Observe("x_latency_seconds", {}, 0.05);
  m.Observe("x_latency_seconds", {}, 0.5);
  m.Observe("x_latency_seconds", {}, 5);
  m.Add("undeclared_total", {});  // ignored
  int scrapes = 0;
  m.AddCollector([&](Metrics& into) { into.Set("x_up", {{"party_id", "10000"}}, ++scrapes); });

  const std::string text = m.Render();
  EXPECT_TRUE(has_line(text, "# HELP x_requests_total Requests\\nby route")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE x_requests_total counter")) << text;
  EXPECT_TRUE(has_line(text, "x_requests_total{route=\"job/submit\",code=\"0\"} 3")) << text;
  EXPECT_TRUE(has_line(text, "x_requests_total{route=\"a\\\"b\\\\c\\nd\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "x_latency_seconds_bucket{le=\"0.1\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "x_latency_seconds_bucket{le=\"1\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "x_latency_seconds_bucket{le=\"+Inf\"} 3")) << text;
  EXPECT_TRUE(has_line(text, "x_latency_seconds_sum 5.55")) << text;
  EXPECT_TRUE(has_line(text, "x_latency_seconds_count 3")) << text;
  EXPECT_TRUE(has_line(text, "x_up{party_id=\"10000\"} 1")) << text;
  EXPECT_EQ(text.find("undeclared"), std::string::npos);
  EXPECT_TRUE(has_line(m.Render(), "x_up{party_id=\"10000\"} 2")) << "collectors run at each scrape";
}

}  // namespace
}  // namespace flowstone::actors
