// Encodes the Job aggregate's events as Cap'n Proto messages (schemas/events.capnp) and back.
// Pure and thread-safe.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "events/job/job.hpp"

namespace flowstone::store {

std::string encode_job_event(const domain::JobEvent& event);
// nullopt if the bytes are not a JobEvent this build understands (corruption or an unknown kind);
// *error says which.
std::optional<domain::JobEvent> decode_job_event(std::string_view bytes, std::string* error);

}  // namespace flowstone::store
