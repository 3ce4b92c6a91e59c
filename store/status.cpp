#include "store/status.hpp"

namespace flowstone::store {

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::ok:
      name = "OK";
      break;
    case Code::conflict:
      name = "Conflict";
      break;
    case Code::not_found:
      name = "NotFound";
      break;
    case Code::io_error:
      name = "IOError";
      break;
    case Code::corruption:
      name = "Corruption";
      break;
    case Code::invalid_argument:
      name = "InvalidArgument";
      break;
    case Code::closed:
      name = "Closed";
      break;
  }
  if (message_.empty()) return name;
  return std::string(name) + ": " + message_;
}

}  // namespace flowstone::store
