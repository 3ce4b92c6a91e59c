// The catalog actor: the one owner of the catalog aggregate (events/catalog.hpp, stream "catalog") and
// of the model files. Commands are decided, appended (synced) and applied one at a time, and the
// catalog views written in the same batch as their events. A model tar is checked (an archive, with its
// *.meta.yaml members parsed), written to a temporary file, synced and renamed into place before the
// answer, so an event never names a file that is not there.
//
// Thread rules: detached (blocking appends and file writes); state is touched only by its handlers.
#pragma once
#include <memory>

#include "actors/environment.hpp"

namespace flowstone::actors {

catalog_actor spawn_catalog(caf::actor_system& system, std::shared_ptr<Environment> env);

}  // namespace flowstone::actors
