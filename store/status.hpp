// Status values returned across the store's boundary instead of exceptions (LevelDB style).
#pragma once
#include <string>
#include <utility>

namespace flowstone::store {

class Status {
 public:
  enum class Code { ok, conflict, not_found, io_error, corruption, invalid_argument, closed };

  Status() = default;
  static Status OK() { return Status(); }
  static Status Conflict(std::string msg) { return Status(Code::conflict, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::not_found, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::io_error, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::corruption, std::move(msg)); }
  static Status InvalidArgument(std::string msg) { return Status(Code::invalid_argument, std::move(msg)); }
  static Status Closed(std::string msg) { return Status(Code::closed, std::move(msg)); }

  bool ok() const { return code_ == Code::ok; }
  bool IsConflict() const { return code_ == Code::conflict; }
  bool IsNotFound() const { return code_ == Code::not_found; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::ok;
  std::string message_;
};

}  // namespace flowstone::store
