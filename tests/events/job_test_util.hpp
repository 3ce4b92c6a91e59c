// Helpers shared by the Job aggregate's tests: the events or effects of one kind, in order.
#pragma once
#include <variant>
#include <vector>

#include "events/job.hpp"

namespace flowstone::domain {

template <typename T>
std::vector<T> events_of(const std::vector<JobEvent>& events) {
  std::vector<T> out;
  for (const auto& e : events)
    if (const T* body = std::get_if<T>(&e.body)) out.push_back(*body);
  return out;
}

template <typename T>
std::vector<T> effects_of(const std::vector<Effect>& effects) {
  std::vector<T> out;
  for (const auto& e : effects)
    if (const T* body = std::get_if<T>(&e)) out.push_back(*body);
  return out;
}

template <typename T>
std::vector<T> effects_of(const Decision& d) {
  return effects_of<T>(d.effects);
}

}  // namespace flowstone::domain
