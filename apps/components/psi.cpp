// flowstone-psi: the `psi` component, a private set intersection of ids between guest and host. Each
// party hashes its ids (SHA-256, salted with the task's federation id), sends the sorted hashes to every
// other guest and host party through the worker API's relay, and keeps its own rows whose hash every
// other party also has. The arbiter, if the task has one, takes no part and succeeds.
//
// Parameters: none.
// Inputs: data `input_data`, one table; its id column is the table's match_id_name (default the first).
// Outputs: data `output_data` (the intersected rows, same columns), and the metric
//   {"name": "intersection", "type": "psi", "data": {"intersect_count", "input_count", "intersect_rate"}}.
// Federation: the parties come from conf.federation.metadata.parties.parties ([{role, partyid}]), the
//   salt from conf.federation.metadata.federation_id; relay key "psi_hashes", waited for up to 600 s.
#include <openssl/evp.h>

#include <algorithm>
#include <iostream>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "apps/components/table_io.hpp"
#include "apps/components/worker_client.hpp"

namespace {

using flowstone::Json;
namespace w = flowstone::worker;

constexpr double kReceiveTimeoutS = 600;
const char* const kRelayKey = "psi_hashes";

std::string text_of(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  return "";
}

// Hex SHA-256 of salt + '\x1f' + id.
std::string hash_id(const std::string& salt, const std::string& id) {
  std::string input = salt + '\x1f' + id;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0F]);
  }
  return out;
}

w::Outcome intersect(const w::TaskContext& task) {
  if (task.role == "arbiter") {
    std::cout << "psi: the arbiter takes no part" << std::endl;
    return {};
  }
  const Json& federation = task.config.value(Json::json_pointer("/conf/federation/metadata"), Json::object());
  const std::string salt = text_of(federation.value("federation_id", Json()));
  if (salt.empty()) return {false, "psi: the task config has no conf.federation.metadata.federation_id"};
  // The other guest and host parties of the task.
  std::set<std::pair<std::string, std::string>> others;
  const Json parties = federation.value(Json::json_pointer("/parties/parties"), Json::array());
  for (const Json& party : parties) {
    if (!party.is_object()) continue;
    std::string role = text_of(party.value("role", Json()));
    std::string party_id = text_of(party.value("partyid", party.value("party_id", Json())));
    if ((role == "guest" || role == "host") && !(role == task.role && party_id == task.party_id))
      others.emplace(role, party_id);
  }

  w::Table table;
  std::string id_column;
  std::string error = w::read_input_table(task, "input_data", &table, &id_column);
  if (!error.empty()) return {false, "psi: " + error};
  const int id_index = w::column_index(table, id_column);
  std::vector<std::string> hashes;
  hashes.reserve(table.rows.size());
  for (const auto& row : table.rows) hashes.push_back(hash_id(salt, row[id_index]));
  std::vector<std::string> sorted = hashes;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());

  // Send to everyone first, then receive: no party waits for another before sending.
  for (const auto& [role, party_id] : others) {
    w::ApiAnswer answer = w::relay_send(task, role, party_id, kRelayKey, Json(sorted));
    if (answer.code != 0)
      return {false, w::api_error("relay_send(" + role + " " + party_id + ", " + kRelayKey + ")", answer)};
  }
  // How many other parties have each of our hashes.
  std::unordered_map<std::string, size_t> seen;
  for (const auto& hash : sorted) seen.emplace(hash, 0);
  for (const auto& [role, party_id] : others) {
    w::ApiAnswer answer = w::relay_receive(task, role, party_id, kRelayKey, kReceiveTimeoutS);
    if (answer.code != 0)
      return {false, w::api_error("relay_receive(" + role + " " + party_id + ", " + kRelayKey + ")", answer)};
    const Json& list =
        answer.data.is_object() && answer.data.contains("payload") ? answer.data["payload"] : answer.data;
    if (!list.is_array())
      return {false, "psi: relay_receive(" + role + " " + party_id +
                         ") answered no hash list: " + answer.data.dump().substr(0, 200)};
    std::unordered_set<std::string> theirs;
    for (const Json& hash : list)
      if (hash.is_string()) theirs.insert(hash.get<std::string>());
    for (auto& [hash, count] : seen)
      if (theirs.count(hash)) ++count;
  }

  w::Table output;
  output.header = table.header;
  for (size_t r = 0; r < table.rows.size(); ++r)
    if (seen[hashes[r]] == others.size()) output.rows.push_back(table.rows[r]);
  error = w::save_output_table(task, "output_data", output, id_column);
  if (!error.empty()) return {false, "psi: " + error};

  const size_t n = output.rows.size();
  const size_t m = table.rows.size();
  Json metric = {{"name", "intersection"},
                 {"type", "psi"},
                 {"groups", Json::array({Json{{"name", "default"}, {"index", nullptr}}})},
                 {"step_axis", nullptr},
                 {"data",
                  {{"intersect_count", n},
                   {"input_count", m},
                   {"intersect_rate", m ? static_cast<double>(n) / static_cast<double>(m) : 0.0}}}};
  w::ApiAnswer answer = w::save_metrics(task, Json::array({metric}));
  if (answer.code != 0) return {false, w::api_error("save_metrics(intersection)", answer)};
  std::cout << "psi: " << n << " of " << m << " rows in the intersection with " << others.size()
            << " other parties" << std::endl;
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  return w::run_component(argc, argv, intersect);
}
