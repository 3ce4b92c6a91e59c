// The pieces of FATE's TaskConfigSpec that one FATE task run (fate_task.hpp) builds from Flowstone's worker
// config and the provider's IO definition (spec 7.3): the artifacts a component declares, the input
// artifact a tracked table or a downloaded model becomes, the input channels the config gives, where each
// declared output goes (step 3), the `conf` FATE wants (its logger as a Python logging dictConfig) and the
// source recorded with an output. Also the small JSON readers all of it uses: the worker config and the
// provider's files are free-form, so nothing is assumed. Fetching, running and pushing are fate_task.cpp's.
//
// Thread rules: functions of their arguments only, with no shared state and no I/O, except that
// allocate_outputs makes a relative data_dir absolute against the process's working directory.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "apps/components/worker_client.hpp"
#include "apps/fate_worker/provider_cli.hpp"
#include "events/common/json.hpp"

namespace flowstone::fate_worker {

// One task run: what the steps of fate_task.cpp share.
struct Run {
  worker::TaskContext ctx;
  Provider provider;
  std::string cwd;  // absolute: URIs handed to the provider must not depend on its working directory
  std::string component;
  std::string stage;
  std::string log_dir;  // the server's task log folder, "" when the config names none
  Json definition;      // the provider's IO definition (ComponentIOArtifactsTypeSpec)
};

// ---- small JSON helpers: the config and the provider's files are free-form, so nothing is assumed ----

// The member `key` of `object`; null when `object` is not an object or has no such member.
const Json& member(const Json& object, const char* key);
// A value FATE writes as a string but a hand-made file may give as a number; "" when neither.
std::string text(const Json& object, const char* key);
// Whether the member `key` of `object` is the boolean true.
bool flag(const Json& object, const char* key);
// `value` when it is an object, else {}.
Json object_or_empty(const Json& value);
// A single artifact or a list of them (a multi input or output) as a list.
std::vector<Json> as_list(const Json& value);

// ---- the TaskConfigSpec's pieces --------------------------------------------------------------------

// The declared artifacts of one section, e.g. ("inputs", "data"), each {name, is_multi, optional, types}.
std::vector<Json> declared(const Json& definition, const char* side, const char* kind);

// The first type an artifact declares: FATE-Flow allocates and labels an output by it.
std::string first_type(const Json& spec);

// FATE's Metadata as its dict() writes it: every key, null when unset, `metadata` at least {}. Anything
// else `meta` carries is dropped rather than risk the provider refusing the task config.
Json fate_metadata(const Json& meta);

// A tracked table ({namespace, name, count, meta, engine, path, source, data_type}) as the input
// artifact FATE's TaskConfigSpec takes: {uri, metadata, type_name}.
Json data_input_artifact(const Run& run, const Json& table, const Json& spec);

// The (source, spec) channels given for input `kind`.`key` in the worker config: a channel, a list of
// them, or {source: spec | [spec]}.
void collect_channels(const Json& value, std::vector<std::pair<std::string, Json>>* out);

// Whether the worker config's input artifacts give a channel for input `kind`.`key`.
bool channel_given(const Json& input_artifacts, const char* kind, const std::string& key);

// Step 3: where each declared output goes. Multi outputs keep FATE's `{index}` placeholder, which the
// provider replaces per artifact.
Json allocate_outputs(const Run& run);

// The worker config's `conf` as FATE's TaskConfSpec wants it.
Json fate_conf(const Run& run);

// The source recorded with output `key` (at `index` of a multi output) when the provider gave none.
Json artifact_source(const Run& run, const std::string& key, const Json& index);

}  // namespace flowstone::fate_worker
