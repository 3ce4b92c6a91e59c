// Inside the DAG language (events/dag/): what the validator (validate.cpp), the trusting reader (read.cpp)
// and the queries (queries.cpp) share. Not for use outside events/dag/.
#pragma once
#include <algorithm>
#include <string_view>
#include <vector>

#include "events/dag/dag.hpp"

namespace flowstone::domain::dag_syntax {

constexpr const char* kSourceTaskOutput = "task_output_artifact";
constexpr const char* kSourceDataWarehouse = "data_warehouse";
constexpr const char* kSourceModelWarehouse = "model_warehouse";

// A member that is absent or null: FATE's schedulers send explicit nulls for every unset optional field.
inline const Json* member(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

// Object copy without null members (one level): null means absent.
inline Json without_nulls(const Json& object) {
  Json out = Json::object();
  if (!object.is_object()) return out;
  for (const auto& item : object.items()) {
    if (!item.value().is_null()) out[item.key()] = item.value();
  }
  return out;
}

inline bool contains(const std::vector<PartyRef>& parties, const PartyRef& party) {
  return std::find(parties.begin(), parties.end(), party) != parties.end();
}

// Parties in the DAG's own form: [{role, party_id: [id]}], one entry per party.
inline Json parties_json(const std::vector<PartyRef>& parties) {
  Json out = Json::array();
  for (const PartyRef& p : parties)
    out.push_back({{"role", p.role}, {"party_id", Json::array({p.party_id})}});
  return out;
}

// Kahn's algorithm; among ready tasks the earliest written goes first. Returns indices; a shorter result than
// dag.tasks means the rest sit on or behind a cycle. `deps_out`: each task's producers, by index.
std::vector<size_t> kahn_order(const Dag& dag, std::vector<std::vector<size_t>>* deps_out = nullptr);

}  // namespace flowstone::domain::dag_syntax
