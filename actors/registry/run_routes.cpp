// What runs produce and the catalog routes: the worker's saves, deletes, tables, providers, models, uploads,
// the server registry and the tracking routes.
#include <ctime>
#include <filesystem>

#include "actors/registry/registry_parts.hpp"

namespace flowstone::actors::registry_parts {

namespace fs = std::filesystem;

// ---- what runs produce: the worker's saves, deletes, tables, providers, models, uploads ------------------

struct RunRef {  // a run named by its execution id <task_id>_<version>_<role>_<party_id>
  std::string job_id, task_name;
  int task_version = 0;
  domain::PartyRef party;
  std::string federation_id() const {
    return domain::task_id_of(job_id, task_name) + "_" + std::to_string(task_version);
  }
};

std::optional<RunRef> run_of(Self self, const std::string& execution_id) {
  RunRef run;
  if (!self->state.env->log->GetView(domain::kExecutionsView, execution_id, &run.job_id).ok())
    return std::nullopt;
  // Party ids and roles hold no '_'; task names may, so the id is read from its end.
  std::vector<std::string> tail;
  std::string rest = execution_id;
  for (int i = 0; i < 3; ++i) {
    auto cut = rest.rfind('_');
    if (cut == std::string::npos) return std::nullopt;
    tail.push_back(rest.substr(cut + 1));
    rest.resize(cut);
  }
  run.party = {tail[1], tail[0]};
  run.task_version = std::atoi(tail[2].c_str());
  run.task_name = domain::task_name_of(run.job_id, rest);
  if (run.task_name.empty()) return std::nullopt;
  return run;
}

ApiReply no_execution(const std::string& execution_id) {
  return reply(RetCode::task_not_found, "No found task: execution_id[" + execution_id + "]");
}

// Sends `command` to the job of the run `execution_id` names; 2000 if there is none.
void to_run_job(Self self, ApiCallMsg& call, const std::function<domain::JobCommand(const RunRef&)>& make,
                net::ApiCallback done) {
  std::string execution_id = param(call.request.params, "execution_id");
  auto run = run_of(self, execution_id);
  job_actor job = run ? find_job(self, run->job_id) : job_actor{};
  if (!job) return done(no_execution(execution_id));
  send_command(self, job, make(*run), call.request, std::move(done));
}

void catalog_command(Self self, domain::CatalogCommand command, net::ApiCallback done) {
  self->request(self->state.env->catalog, kCommandTimeout, CatalogCommandMsg{std::move(command)})
      .then([done](const JobReply& r) { done(reply(r.code, r.message, r.data)); },
            [done](caf::error& err) {
              done(reply(RetCode::server_exception, "catalog did not answer: " + caf::to_string(err)));
            });
}

// A tracked output with a uri is a storage table too (spec 1.9): registered once the job recorded it.
domain::TableMeta table_of_record(const Json& r, const std::string& job_id) {
  domain::TableMeta t;
  auto [engine, path] = uri_address(r.value("uri", ""));
  t.ns = r.value("namespace", "");
  t.name = r.value("name", "");
  t.engine = engine;
  t.path = path;
  t.data_type = r.value("data_type", "");
  t.job_id = job_id;
  const Json overview = r.value("overview", Json::object());
  t.count = overview.contains("count") && overview["count"].is_number_integer()
                ? overview["count"].get<int64_t>()
                : 0;
  t.part_of_data = overview.contains("samples") ? overview["samples"] : Json::array();
  t.partitions = r.value("partitions", 16);
  t.meta = r.value("meta_data", Json::object());
  t.source = r.value("source", Json::object());
  return t;
}

void track_data(Self self, ApiCallMsg& call) {
  Json record = call.request.params;
  record.erase("execution_id");
  auto done = call.reply;
  to_run_job(
      self, call,
      [&](const RunRef&) {
        return domain::TrackDataOutput{param(call.request.params, "execution_id"), record, 0};
      },
      [self, record, done, run = run_of(self, param(call.request.params, "execution_id"))](ApiReply r) {
        if (!ok(r.code) || record.value("uri", "").empty() || !run) return done(std::move(r));
        catalog_command(self, domain::RegisterTable{table_of_record(record, run->job_id), 0}, done);
      });
}

void save_model(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  auto file = call.request.files.find("file");
  if (file == call.request.files.end())
    return call.reply(net::invalid_request("form", "file", "Missing data for required field."));
  std::string execution_id = param(params, "execution_id");
  auto run = run_of(self, execution_id);
  job_actor job = run ? find_job(self, run->job_id) : job_actor{};
  if (!job) return call.reply(no_execution(execution_id));
  domain::ModelSaved model;
  model.execution_id = execution_id;
  model.output_key = param(params, "output_key");
  model.type_name = param(params, "type_name");
  model.model_id = param(params, "model_id");
  model.model_version = param(params, "model_version");
  for (const std::string* part : {&model.model_id, &model.model_version, &model.output_key})
    if (std::string problem = domain::table_name_problem(*part); !problem.empty())
      return call.reply(reply(RetCode::invalid_parameter, "Invalid request: '" + *part + "' " + problem));
  model.storage_key = domain::model_storage_key(model.model_id, model.model_version, run->party,
                                                run->task_name, model.output_key);
  auto done = call.reply;
  auto request = call.request;
  self->request(self->state.env->catalog, kCommandTimeout,
                StoreModelMsg{model.storage_key, file->second.data})
      .then(
          [self, job, model, request, done](const StoreModelReply& stored) mutable {
            if (!ok(stored.code)) return done(reply(stored.code, stored.message));
            model.file = stored.model.file;
            model.size = stored.model.size;
            model.digest = stored.model.digest;
            model.meta_data = stored.model.meta_data;
            send_command(self, job, domain::SaveModel{model, 0}, request, done);
          },
          [done](caf::error& err) {
            done(reply(RetCode::server_exception, "catalog did not answer: " + caf::to_string(err)));
          });
}

std::string relay_key(const std::string& federation_id, const domain::PartyRef& src,
                      const domain::PartyRef& dest, const std::string& key) {
  return domain::join0({federation_id, src.role, src.party_id, dest.role, dest.party_id, key});
}

void relay_send(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  std::string execution_id = param(params, "execution_id");
  auto run = run_of(self, execution_id);
  if (!run) return call.reply(no_execution(execution_id));
  domain::PartyRef dest{param(params, "dest_role"), param(params, "dest_party_id")};
  Json payload = params.contains("payload") ? params["payload"] : Json(nullptr);
  if (is_local_party(self->state.env->config, dest.party_id)) {
    self->state.relay_inbox[relay_key(run->federation_id(), run->party, dest, param(params, "key"))] =
        payload;
    return call.reply(reply(RetCode::success, "success"));
  }
  Json body{{"job_id", run->job_id},       {"federation_id", run->federation_id()},
            {"src_role", run->party.role}, {"src_party_id", run->party.party_id},
            {"dest_role", dest.role},      {"dest_party_id", dest.party_id},
            {"key", param(params, "key")}, {"payload", payload}};
  forward(self, dest.party_id, "partner/relay/receive", std::move(body), call.reply);
}

void relay_deliver(Self self, ApiCallMsg& call) {
  const Json& p = call.request.params;
  self->state
      .relay_inbox[relay_key(param(p, "federation_id"), {param(p, "src_role"), param(p, "src_party_id")},
                             {param(p, "dest_role"), param(p, "dest_party_id")}, param(p, "key"))] =
      p.contains("payload") ? p["payload"] : Json(nullptr);
  call.reply(reply(RetCode::success, "success"));
}

void relay_receive(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  std::string execution_id = param(params, "execution_id");
  auto run = run_of(self, execution_id);
  if (!run) return call.reply(no_execution(execution_id));
  auto& inbox = self->state.relay_inbox;
  auto it =
      inbox.find(relay_key(run->federation_id(), {param(params, "src_role"), param(params, "src_party_id")},
                           run->party, param(params, "key")));
  if (it == inbox.end()) return call.reply(reply(RetCode::no_found_model_output, "not arrived yet"));
  Json payload = std::move(it->second);
  inbox.erase(it);
  call.reply(reply(RetCode::success, "success", std::move(payload)));
}

void delete_task_tracking(Self self, ApiCallMsg& call, const char* kind) {
  const Json& params = call.request.params;
  job_actor job = find_job(self, param(params, "job_id"));
  if (!job)
    return call.reply(reply(RetCode::job_not_found, "No found job: job_id[" + param(params, "job_id") + "]"));
  domain::TrackingDeleted what{kind, param(params, "task_name"), party_of(params), ""};
  send_command(self, job, domain::DeleteTracking{what, 0}, call.request, call.reply);
}

// /v2/model/delete: the models of one id and version, whichever jobs saved them, and imported ones.
void delete_models(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  std::string id = param(params, "model_id"), version = param(params, "model_version");
  std::set<std::string> jobs;
  self->state.env->log->ScanView(domain::kModelsView, domain::join0({id, version}) + '\0',
                                 [&](const std::string&, const std::string& value) {
                                   jobs.insert(Json::parse(value, nullptr, false).value("job_id", ""));
                                   return true;
                                 });
  struct Gather {
    size_t left = 0;
    bool any = false;
    net::ApiCallback done;
  };
  auto gather = std::make_shared<Gather>();
  gather->left = jobs.size() + 1;
  gather->done = call.reply;
  auto answered = [gather, id, version](ApiReply r) {  // runs in this actor: no lock needed
    gather->any = gather->any || (ok(r.code) && r.data.is_boolean() && r.data.get<bool>());
    if (--gather->left > 0) return;
    if (!gather->any)
      return gather->done(reply(RetCode::no_found_model_output,
                                "No found model: model_id[" + id + "] model_version[" + version + "]"));
    gather->done(reply(RetCode::success, "success", Json{{"count", true}}));
  };
  domain::TrackingDeleted what{"model",
                               param(params, "task_name"),
                               {param(params, "role"), param(params, "party_id")},
                               param(params, "output_key")};
  for (const std::string& job_id : jobs) {
    job_actor job = find_job(self, job_id);
    if (!job) {
      answered(reply(RetCode::job_not_found, "No found job"));
      continue;
    }
    send_command(self, job, domain::DeleteTracking{what, 0}, call.request, answered);
  }
  catalog_command(self,
                  domain::DeleteImportedModels{id, version, param(params, "role"), param(params, "party_id"),
                                               param(params, "task_name"), param(params, "output_key"), 0},
                  answered);
}

void import_models(Self self, ApiCallMsg& call) {
  auto file = call.request.files.find("file");
  if (file == call.request.files.end())
    return call.reply(reply(RetCode::no_found_file, "No found file: the form has no 'file'"));
  auto done = call.reply;
  self->request(self->state.env->catalog, kCommandTimeout,
                ImportModelsMsg{param(call.request.params, "model_id"),
                                param(call.request.params, "model_version"), file->second.data})
      .then([done](const JobReply& r) { done(reply(r.code, r.message, r.data)); },
            [done](caf::error& err) {
              done(reply(RetCode::server_exception, "catalog did not answer: " + caf::to_string(err)));
            });
}

// A local provider's package (path) and executable (entrypoint) must lie under flowstone.provider_roots,
// and none of its files (venv included) where clients write (the data dir, the file roots); a missing one
// is 8001 (spec 1.6). Null when acceptable.
std::optional<ApiReply> local_provider_refusal(const ServerConfig& config, const Json& metadata) {
  const net::FileRoots providers = config.provider_folders(), writable = config.file_roots();
  for (const char* key : {"path", "venv", "entrypoint"}) {
    std::string path = param(metadata, key);
    if (path.empty()) continue;
    const std::string field = std::string("metadata.") + key;
    std::error_code ec;
    if (!fs::path(path).is_absolute())
      return net::invalid_request("json", field, "must be an absolute path.");
    if (!fs::exists(path, ec)) return reply(RetCode::file_not_found, field + ": " + path + " does not exist");
    std::string resolved = net::resolve_path(path);
    if (writable.Contains(resolved))
      return reply(RetCode::no_permission, "No permission: " + field + " " + path +
                                               " lies in a folder clients can write into " +
                                               writable.Describe());
    if (std::string(key) != "venv" && !providers.Contains(resolved))
      return reply(RetCode::no_permission, "No permission: " + field + " " + path +
                                               " is outside flowstone.provider_roots " +
                                               providers.Describe());
  }
  return std::nullopt;
}

void register_provider(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  domain::ProviderInfo p;
  p.name = param(params, "name");
  p.version = param(params, "version");
  p.device = param(params, "device");
  p.metadata = params["metadata"];
  if (params.contains("protocol") && params["protocol"].is_string())
    p.protocol = params["protocol"].get<std::string>();
  if (params.contains("components_description") && params["components_description"].is_object())
    for (const auto& [component, description] : params["components_description"].items())
      p.components.push_back(component);
  // A provider names what this server will run. With client authentication on, the edge lets only the
  // admin app and super_clients call this route (roles_for); without it, only an operator on this machine.
  if (!self->state.env->config.auth.client && !call.request.from_loopback())
    return call.reply(reply(RetCode::no_permission,
                            "No permission: providers are registered from this machine only (the call "
                            "came from " +
                                call.request.remote_address + ")"));
  if (p.device == "local" || p.device == "slurm")  // a Slurm job runs the same executables, on this machine
    if (auto refused = local_provider_refusal(self->state.env->config, p.metadata))
      return call.reply(std::move(*refused));
  catalog_command(self, domain::RegisterProvider{std::move(p), 0}, call.reply);
}

void delete_providers(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  domain::DeleteProviders command{param(params, "name"), param(params, "version"), param(params, "device"),
                                  0};
  if (std::string full = param(params, "provider_name"); !full.empty()) {  // name:version@device
    auto at = full.find('@'), colon = full.find(':');
    command.name = full.substr(0, std::min(at, colon));
    if (colon != std::string::npos)
      command.version = full.substr(colon + 1, at == std::string::npos ? at : at - colon - 1);
    if (at != std::string::npos) command.device = full.substr(at + 1);
  }
  catalog_command(self, std::move(command), call.reply);
}

void bind_table(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  domain::TableMeta t;
  t.ns = param(params, "namespace");
  t.name = param(params, "name");
  t.engine = "path";
  if (std::string problem = self->state.env->config.file_roots().Confine(param(params, "path"), &t.path);
      !problem.empty())
    return call.reply(reply(RetCode::no_permission, "No permission: path " + problem));
  t.data_type = "data_directory";
  t.source = Json{{"type", "bind"}};
  catalog_command(self, domain::RegisterTable{std::move(t), 0}, call.reply);
}

// A local job of one task at party "0" (uploads and transforms, spec 8); answers the submit's reply with
// data {namespace, name}.
void submit_local_job(Self self, const std::string& task, Json task_spec, const std::string& ns,
                      const std::string& name, net::ApiCallback done) {
  Json schema{{"schema_version", "2.1.0"},
              {"kind", "fate"},
              {"dag",
               {{"parties", Json::array({Json{{"role", "local"}, {"party_id", Json::array({"0"})}}})},
                {"conf", {{"scheduler_party_id", "0"}}},
                {"tasks", {{task, std::move(task_spec)}}}}}};
  create_job(
      self, std::move(schema), "", "",
      [done, ns, name](ApiReply r) {
        if (ok(r.code)) r.data = Json{{"namespace", ns}, {"name", name}};
        done(std::move(r));
      },
      std::nullopt);
}

// The first unusable name among `fields` (namespace, name...), as the reply; null if all are usable.
std::optional<ApiReply> bad_table_name(const std::vector<std::pair<const char*, std::string>>& fields) {
  for (const auto& [field, value] : fields)
    if (!value.empty())
      if (std::string problem = domain::table_name_problem(value); !problem.empty())
        return net::invalid_request("json", field, "'" + value + "' " + problem + ".");
  return std::nullopt;
}

// A yes/no parameter as JSON or form text (true/True/1, false/False/0); nullopt when absent or neither.
std::optional<bool> flag_param(const Json& params, const char* name) {
  const std::string text = param(params, name);
  if (text == "true" || text == "True" || text == "1") return true;
  if (text == "false" || text == "False" || text == "0") return false;
  return std::nullopt;
}

// FATE's drop rule for a job that writes table ns.name: an existing table is replaced only when `drop` is
// true (the default is `drop_default`: true for the transformer as in FATE 2.x, false for uploads, so a
// second upload never silently replaces data); else 7002. Null when the job may go ahead.
std::optional<ApiReply> existing_table_refusal(Self self, const Json& params, const std::string& ns,
                                               const std::string& name, bool drop_default = false) {
  if (ns.empty() || name.empty()) return std::nullopt;
  const bool drop = flag_param(params, "drop").value_or(drop_default);
  std::string existing;
  if (drop || !self->state.env->log->GetView(domain::kTablesView, domain::join0({ns, name}), &existing).ok())
    return std::nullopt;
  return reply(RetCode::table_exists,
               "Table " + ns + "." + name + " already exists: pass drop=true to replace it");
}

// /v2/data/component/dataframe/transformer: a table (data_warehouse) becomes a dataframe {namespace, name}.
void transform_table(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  const Json& source = params["data_warehouse"];
  std::string ns = param(params, "namespace"), name = param(params, "name");
  if (auto bad = bad_table_name({{"namespace", ns}, {"name", name}})) return call.reply(std::move(*bad));
  if (auto exists = existing_table_refusal(self, params, ns, name, true))
    return call.reply(std::move(*exists));
  std::string existing;
  if (!self->state.env->log
           ->GetView(domain::kTablesView, domain::join0({param(source, "namespace"), param(source, "name")}),
                     &existing)
           .ok())
    return call.reply(reply(
        RetCode::table_not_found,
        "No found table: namespace[" + param(source, "namespace") + "] name[" + param(source, "name") + "]"));
  Json task{{"component_ref", "dataframe_transformer"},
            {"parameters", {{"namespace", ns}, {"name", name}}},
            {"inputs",
             {{"data",
               {{"table",
                 {{"data_warehouse",
                   {{"name", param(source, "name")}, {"namespace", param(source, "namespace")}}}}}}}}}};
  submit_local_job(self, "transformer_0", std::move(task), ns, name, call.reply);
}

// Uploads are local jobs (spec 8): one `upload` task at party "0", which writes the table and tracks it.
void upload(Self self, ApiCallMsg& call, std::string file) {
  auto& st = self->state;
  const Json& params = call.request.params;
  std::string ns = param(params, "namespace"), name = param(params, "name");
  if (ns.empty() != name.empty())
    return call.reply(net::invalid_request("json", ns.empty() ? "namespace" : "name",
                                           "namespace and name are given together or not at all."));
  if (auto bad = bad_table_name({{"namespace", ns}, {"name", name}})) return call.reply(std::move(*bad));
  if (fs::path(file).is_relative()) file = st.env->config.upload_dir() + "/" + file;
  std::string resolved;
  if (std::string problem = st.env->config.file_roots().Confine(file, &resolved); !problem.empty())
    return call.reply(reply(RetCode::no_permission, "No permission: file " + problem));
  std::error_code ec;
  if (!fs::is_regular_file(resolved, ec))
    return call.reply(reply(RetCode::file_not_found, "No found file: " + file));
  if (auto exists = existing_table_refusal(self, params, ns, name)) return call.reply(std::move(*exists));
  if (ns.empty()) {
    ns = "upload";
    name = new_job_id(self);
  }
  Json meta = params["meta"];
  if (meta.is_string()) meta = Json::parse(meta.get<std::string>(), nullptr, false);
  if (!meta.is_object()) return call.reply(net::invalid_request("form", "meta", "Not a valid mapping type."));
  const bool has_head = flag_param(params, "head").value_or(true);
  Json parameters{{"file", resolved}, {"head", has_head}, {"partitions", params["partitions"]},
                  {"meta", meta},     {"namespace", ns},  {"name", name}};
  if (params.contains("extend_sid")) parameters["extend_sid"] = params["extend_sid"];
  submit_local_job(self, "upload_0", Json{{"component_ref", "upload"}, {"parameters", parameters}}, ns, name,
                   call.reply);
}

// /v2/data/component/download (FATE's download_0): a local job whose `download` task writes table ns.name to
// `path` (default <data_dir>/download/<namespace>_<name>.csv), which must lie under the file roots.
void download_table(Self self, ApiCallMsg& call) {
  const ServerConfig& config = self->state.env->config;
  const Json& params = call.request.params;
  std::string ns = param(params, "namespace"), name = param(params, "name"), path = param(params, "path");
  if (path.empty()) path = config.data_dir + "/download/" + ns + "_" + name + ".csv";
  std::string target;
  if (std::string problem = config.file_roots().Confine(path, &target); !problem.empty())
    return call.reply(reply(RetCode::no_permission, "No permission: path " + problem));
  std::string existing;
  if (!self->state.env->log->GetView(domain::kTablesView, domain::join0({ns, name}), &existing).ok())
    return call.reply(
        reply(RetCode::table_not_found, "No found table: namespace[" + ns + "] name[" + name + "]"));
  Json task{{"component_ref", "download"},
            {"parameters", {{"namespace", ns}, {"name", name}, {"path", target}}}};
  submit_local_job(self, "download_0", std::move(task), ns, name, [call, target](ApiReply r) {
    if (ok(r.code)) r.data["path"] = target;
    call.reply(std::move(r));
  });
}

// The form's file is stored by the catalog actor (a durable write, off this actor), then uploaded.
void upload_file(Self self, ApiCallMsg& call) {
  auto file = call.request.files.find("file");
  if (file == call.request.files.end())
    return call.reply(net::invalid_request("form", "file", "Missing data for required field."));
  std::string base = fs::path(file->second.filename).filename().string();
  if (base.empty() || base == "." || base == "..") base = "upload.csv";
  std::string path = self->state.env->config.data_dir + "/temps/" + new_job_id(self) + "/" + base;
  self->request(self->state.env->catalog, kCommandTimeout, StoreUploadMsg{path, file->second.data})
      .then(
          [self, call, path](const JobReply& stored) mutable {
            if (!ok(stored.code)) return call.reply(reply(stored.code, stored.message));
            upload(self, call, path);
          },
          [reply_to = call.reply](caf::error& err) {
            reply_to(reply(RetCode::server_exception, "catalog did not answer: " + caf::to_string(err)));
          });
}

// ---- the server registry's writes (spec 1.6); its reads are the query actor's ---------------------------

namespace {

std::string text_or(const Json& params, const char* key, const char* fallback) {
  std::string value = param(params, key);
  return value.empty() ? std::string(fallback) : value;
}

Json object_of(const Json& params, const char* key) {
  auto it = params.find(key);
  return it != params.end() && it->is_object() ? *it : Json::object();
}

}  // namespace

void register_server(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  catalog_command(
      self,
      domain::RegisterServer{param(params, "server_name"), param(params, "host"),
                             text_or(params, "protocol", "http"), params.value("port", int64_t{0}), 0},
      call.reply);
}

void delete_server(Self self, ApiCallMsg& call) {
  catalog_command(self, domain::DeleteServer{param(call.request.params, "server_name"), 0}, call.reply);
}

void register_service(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  catalog_command(self,
                  domain::RegisterService{param(params, "server_name"), param(params, "service_name"),
                                          param(params, "uri"), text_or(params, "method", "POST"),
                                          text_or(params, "protocol", "http"), object_of(params, "params"),
                                          object_of(params, "data"), object_of(params, "headers"), 0},
                  call.reply);
}

void delete_service(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  catalog_command(self, domain::DeleteService{param(params, "server_name"), param(params, "service_name"), 0},
                  call.reply);
}

// ---- saves of task runs and catalog writes
// -----------------------------------------------------------------

void save_metrics(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  Json metrics = params.contains("data") ? params["data"] : Json::array();
  if (metrics.is_object()) metrics = Json::array({metrics});
  std::string field;
  if (std::string problem = domain::metric_problem(metrics, &field); !problem.empty())
    return call.reply(net::invalid_request("json", field, problem));
  to_run_job(
      self, call,
      [&](const RunRef&) {
        return domain::SaveMetrics{param(params, "execution_id"), metrics, 0};
      },
      call.reply);
}

void delete_metrics(Self self, ApiCallMsg& call) {
  delete_task_tracking(self, call, "metric");
}
void delete_task_models(Self self, ApiCallMsg& call) {
  delete_task_tracking(self, call, "model");
}

void delete_table(Self self, ApiCallMsg& call) {
  const Json& params = call.request.params;
  catalog_command(self, domain::DeleteTable{param(params, "namespace"), param(params, "name"), 0},
                  call.reply);
}

void upload_server_file(Self self, ApiCallMsg& call) {
  upload(self, call, param(call.request.params, "file"));
}

// FATE answers {party_id}; `partners` adds what this site's Party actors saw of each remote party.

}  // namespace flowstone::actors::registry_parts
