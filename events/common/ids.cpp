#include "events/common/ids.hpp"

#include <array>

namespace flowstone::domain {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_lower(char c) {
  return (c >= 'a' && c <= 'z') || c == '_';
}
bool is_name_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' || c == '.';
}

// Fields that carry prose, never a path: ".." may appear in them ("see ../x", "wait...").
constexpr std::array<std::string_view, 7> kFreeText = {"notes",   "error",       "reason",       "message",
                                                       "payload", "description", "status_reason"};

}  // namespace

std::string id_problem(IdKind kind, std::string_view value) {
  if (value.empty()) return "must not be empty";
  switch (kind) {
    case IdKind::job_id:
      if (value.size() > 64) return "must be at most 64 characters";
      for (char c : value)
        if (!is_digit(c)) return "must contain only digits (a job id)";
      return "";
    case IdKind::role:
      if (value.size() > 32) return "must be at most 32 characters";
      for (char c : value)
        if (!is_lower(c)) return "must contain only lower-case letters and '_' (a role)";
      return "";
    case IdKind::name:
      if (value.size() > 128) return "must be at most 128 characters";
      for (char c : value)
        if (!is_name_char(c)) return "must contain only letters, digits, '_', '-' and '.'";
      if (value.front() == '.' || value.front() == '-') return "must not start with '.' or '-'";
      if (value.find("..") != std::string_view::npos) return "must not contain '..'";
      return "";
  }
  return "";
}

std::optional<IdKind> path_id_kind(std::string_view field) {
  if (field == "job_id") return IdKind::job_id;
  if (field == "role" || field == "src_role" || field == "dest_role") return IdKind::role;
  for (std::string_view name :
       {"party_id", "src_party_id", "dest_party_id", "task_name", "task_id", "execution_id", "model_id",
        "model_version", "namespace", "name", "version", "output_key", "federation_id"})
    if (field == name) return IdKind::name;
  return std::nullopt;
}

std::string param_problem(std::string_view field, std::string_view value, bool free_text) {
  if (value.find('\0') != std::string_view::npos) return "must not contain a NUL character";
  if (auto kind = path_id_kind(field)) return id_problem(*kind, value);
  if (free_text) return "";
  for (std::string_view free : kFreeText)
    if (field == free) return "";
  if (value.find("..") != std::string_view::npos) return "must not contain '..'";
  return "";
}

std::string dag_id_problem(const Json& dag, std::string* field) {
  if (!dag.is_object()) return "";
  if (auto parties = dag.find("parties"); parties != dag.end() && parties->is_array())
    for (size_t i = 0; i < parties->size(); ++i) {
      const Json& party = (*parties)[i];
      if (!party.is_object()) continue;
      auto ids = party.find("party_id");
      if (ids == party.end() || !ids->is_array()) continue;
      for (size_t j = 0; j < ids->size(); ++j) {
        const Json& id = (*ids)[j];
        std::string text = id.is_string() ? id.get<std::string>() : id.dump();
        if (std::string problem = id_problem(IdKind::name, text); !problem.empty()) {
          *field = "dag.parties[" + std::to_string(i) + "].party_id[" + std::to_string(j) + "]";
          return problem;
        }
      }
    }
  if (auto tasks = dag.find("tasks"); tasks != dag.end() && tasks->is_object())
    for (const auto& [name, task] : tasks->items())
      if (std::string problem = id_problem(IdKind::name, name); !problem.empty()) {
        *field = "dag.tasks." + name;
        return "task name " + problem;
      }
  return "";
}

}  // namespace flowstone::domain
