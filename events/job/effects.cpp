#include "events/job/effects.hpp"

#include <type_traits>

namespace flowstone::domain {

std::string destination_of(const RemoteCall& call) {
  return std::visit(
      [](const auto& c) -> std::string {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, ReportToScheduler>) {
          return c.scheduler_party_id;
        } else {
          return c.party.party_id;
        }
      },
      call);
}

}  // namespace flowstone::domain
