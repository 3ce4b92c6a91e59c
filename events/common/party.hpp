// A party of a job: one (role, party_id) pair of dag.parties. One server serves every role of its
// party_id; party "0" is the local party of local jobs.
#pragma once
#include <string>

namespace flowstone::domain {

struct PartyRef {
  std::string role;      // guest | host | arbiter | local
  std::string party_id;  // FATE party ids are strings ("9999"; "0" is the local party)
  bool operator==(const PartyRef& o) const { return role == o.role && party_id == o.party_id; }
  bool operator!=(const PartyRef& o) const { return !(*this == o); }
  bool operator<(const PartyRef& o) const { return role != o.role ? role < o.role : party_id < o.party_id; }
};

// "role:party_id", as messages name a party.
inline std::string party_text(const PartyRef& party) {
  return party.role + ":" + party.party_id;
}

}  // namespace flowstone::domain
