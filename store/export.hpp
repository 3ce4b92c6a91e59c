// A party's event log as a portable file, and its views as text: `flowstone store export | import | views`.
//
// Export writes every event in global order, one JSON line each: {"stream", "version", "global_seq",
// "payload"} with the stored bytes (Cap'n Proto) in base64, exactly as the log holds them. Import appends
// such a file into an empty log (each stream at the versions it had, in the same global order); the views
// are then rebuilt from the events (RebuildViews). A file written by an old build, imported and rebuilt by
// a new one, shows whether the new build still reads old logs the same way (tests/fixtures/).
//
// DumpViews writes every row of every view family in key order, one JSON line each: {"family", "key",
// "value"}, so two dumps compare byte for byte.
//
// Blocking; run them with the server stopped or from a thread that may block.
#pragma once
#include <cstddef>
#include <iosfwd>
#include <string>

#include "store/event_log.hpp"

namespace flowstone::store {

Status ExportLog(EventLog& log, std::ostream& out, size_t* events = nullptr);
// The log must be empty. A line that does not parse, or a version out of order, stops the import with the
// line number; what was appended before stays (the caller imports into a fresh folder).
Status ImportLog(EventLog& log, std::istream& in, size_t* events = nullptr);
Status DumpViews(EventLog& log, std::ostream& out, size_t* rows = nullptr);

}  // namespace flowstone::store
