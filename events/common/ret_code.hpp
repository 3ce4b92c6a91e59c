// FATE-Flow's return codes (spec 1.2): the one vocabulary of every decision, reply and refusal. The wire
// carries them as integers in the {code, message, data} envelope; `to_int` gives that integer and
// `ret_code_of` reads one back (a code of another party's server may be any integer: it is kept as is).
#pragma once

namespace flowstone {

enum class RetCode : int {
  success = 0,
  federated_error = 104,  // the party could not be reached in time (ofx FEDERATED_ERROR)

  // Job
  job_params_error = 1000,
  job_not_found = 1001,
  create_job_failed = 1002,
  job_update_failed = 1003,
  job_kill_failed = 1004,
  job_resource_exception = 1005,
  job_resource_limit_exceeded = 1006,
  inheritance_failed = 1007,

  // Task
  task_not_found = 2000,
  task_start_failed = 2001,
  task_update_failed = 2002,
  task_kill_failed = 2003,
  task_resource_exception = 2004,
  no_found_model_output = 2005,  // also: a tracking query with nothing tracked, a relay message not yet there
  task_run_failed = 2006,
  component_run_failed = 2007,
  no_found_run_result = 2008,

  is_standalone = 3000,

  // Provider
  provider_params_error = 4000,
  device_not_supported = 4001,

  // API
  expired = 5000,
  invalid_parameter = 5001,
  no_found_appid = 5002,
  verify_failed = 5003,
  authentication_failed = 5004,
  no_permission = 5005,
  permission_operate_error = 5006,
  no_found_file = 5007,
  component_output_exception = 5008,
  role_type_error = 5009,

  // Server
  server_exception = 6000,
  function_restricted = 6001,
  response_exception = 6002,
  server_not_found = 6003,  // also: an unknown route
  instance_not_found = 6004,
  too_many_requests = 6005,  // Flowstone: a client or a partner site past its request rate (HTTP 429)

  // Table
  table_not_found = 7001,
  table_exists = 7002,

  // File
  file_not_found = 8001,
  file_exists = 8002,
};

constexpr int to_int(RetCode code) {
  return static_cast<int>(code);
}
constexpr RetCode ret_code_of(int code) {
  return static_cast<RetCode>(code);
}
constexpr bool ok(RetCode code) {
  return code == RetCode::success;
}

}  // namespace flowstone
