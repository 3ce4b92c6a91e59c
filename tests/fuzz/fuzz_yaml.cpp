// libFuzzer target: the YAML path (job files given to the CLI, `*.meta.yaml` members of a model tar,
// component definitions): any text either converts to Json or is refused with a message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "net/yaml_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  flowstone::Json out;
  std::string error =
      flowstone::net::parse_yaml_or_json(std::string(reinterpret_cast<const char*>(data), size), &out);
  if (error.empty()) out.dump();  // what converted can be written back out
  return 0;
}
