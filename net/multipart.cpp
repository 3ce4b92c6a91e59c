#include "net/multipart.hpp"

#include <random>

namespace flowstone::net {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The value of `key` in a header's parameters (`form-data; name="file"; filename="m.tar"`).
std::string header_param(const std::string& header, const std::string& key) {
  size_t pos = 0;
  while ((pos = header.find(';', pos)) != std::string::npos) {
    ++pos;
    while (pos < header.size() && header[pos] == ' ') ++pos;
    size_t eq = header.find('=', pos);
    if (eq == std::string::npos) break;
    if (lower(header.substr(pos, eq - pos)) != key) continue;
    size_t start = eq + 1;
    if (start < header.size() && header[start] == '"') {
      size_t end = header.find('"', start + 1);
      return header.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
    }
    size_t end = header.find(';', start);
    return header.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }
  return "";
}

}  // namespace

std::string parse_multipart(const std::string& content_type, const std::string& body, Form* out) {
  if (lower(content_type).rfind("multipart/form-data", 0) != 0)
    return "expected a multipart/form-data body, got '" + content_type + "'";
  std::string boundary = header_param(content_type, "boundary");
  if (boundary.empty()) return "multipart body without a boundary";
  const std::string delimiter = "--" + boundary;
  size_t pos = body.find(delimiter);
  if (pos == std::string::npos) return "multipart body without its boundary";
  while (true) {
    pos += delimiter.size();
    if (body.compare(pos, 2, "--") == 0) return "";  // closing delimiter
    if (body.compare(pos, 2, "\r\n") != 0) return "malformed multipart delimiter line";
    pos += 2;
    size_t headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string::npos) return "multipart part without a blank line after its headers";
    FormPart part;
    std::string disposition;
    for (size_t line = pos; line < headers_end;) {
      size_t eol = body.find("\r\n", line);
      if (eol == std::string::npos || eol > headers_end) eol = headers_end;
      std::string header = body.substr(line, eol - line);
      size_t colon = header.find(':');
      if (colon != std::string::npos) {
        std::string name = lower(header.substr(0, colon));
        std::string value = header.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (name == "content-disposition") disposition = value;
        if (name == "content-type") part.content_type = value;
      }
      line = eol + 2;
    }
    size_t data_start = headers_end + 4;
    size_t next = body.find("\r\n" + delimiter, data_start);
    if (next == std::string::npos) return "multipart part '" + part.name + "' is not terminated";
    part.name = header_param(disposition, "name");
    part.filename = header_param(disposition, "filename");
    part.data = body.substr(data_start, next - data_start);
    if (part.name.empty()) return "multipart part without a name";
    if (disposition.find("filename") != std::string::npos)
      out->files[part.name] = std::move(part);
    else
      out->fields[part.name] = std::move(part.data);
    pos = next + 2;
  }
}

std::string build_multipart(const std::vector<FormPart>& parts, std::string* content_type) {
  std::random_device random;
  std::string boundary = "flowstone" + std::to_string(random()) + std::to_string(random());
  *content_type = "multipart/form-data; boundary=" + boundary;
  std::string body;
  for (const FormPart& part : parts) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + part.name + "\"";
    if (!part.filename.empty()) body += "; filename=\"" + part.filename + "\"";
    body += "\r\n";
    if (!part.content_type.empty()) body += "Content-Type: " + part.content_type + "\r\n";
    body += "\r\n" + part.data + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  return body;
}

}  // namespace flowstone::net
