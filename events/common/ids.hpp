// The shapes of the ids that become parts of file paths: job ids, roles, party ids, task names, model ids
// and versions, table namespaces and names, provider versions. One rule, used where requests enter (the
// HTTP edge, the DAG of a submit or a partner's create) and by the domain's own checks, so a path is only
// ever built from parts that passed it. Pure functions; thread-safe.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "events/common/json.hpp"

namespace flowstone::domain {

enum class IdKind {
  job_id,  // FATE's job ids: digits only (1..64)
  role,    // lower-case letters and '_' (1..32): guest, host, arbiter, local
  name,    // letters, digits, '_', '-', '.' (1..128), not starting with '.' or '-', no ".."
};

// Why `value` is not a usable id of `kind` ("" when it is), as a phrase: "must contain only digits".
std::string id_problem(IdKind kind, std::string_view value);

// The kind of a request field whose value becomes part of a path (job_id, role, party_id, task_name,
// model_id, ...); nullopt for other fields.
std::optional<IdKind> path_id_kind(std::string_view field);

// Why a top-level request parameter is refused ("" if it is not): a NUL anywhere; ".." in any field that
// is not free text (notes, error, reason, ..., or any field the caller says the server never opens as a
// path: `free_text`); the id shape of a path id field.
std::string param_problem(std::string_view field, std::string_view value, bool free_text = false);

// The first party id or task name of a DAG (dag.parties[i].party_id[j], dag.tasks keys) that is not a
// usable id: its field path in *field and the problem as the result; "" when all are usable.
std::string dag_id_problem(const Json& dag, std::string* field);

}  // namespace flowstone::domain
