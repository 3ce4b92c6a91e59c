// A tiny blocking client on a raw socket, for tests of what http_call cannot do (keep-alive, lying headers,
// a streamed response read as it arrives).
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <string>

namespace flowstone::net::testing {

using namespace std::chrono_literals;

class RawConnection {
  using Clock = std::chrono::steady_clock;

 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }

  bool send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  struct Response {
    bool complete = false;
    int status = 0;
    std::string head;  // status line and headers, lower-cased
    std::string body;
  };

  // Reads one response (Content-Length framed) within `timeout`.
  Response read_response(std::chrono::milliseconds timeout = 5000ms) {
    Response out;
    auto deadline = Clock::now() + timeout;
    for (;;) {
      size_t end = pending_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = pending_.substr(0, end);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t length = 0;
        size_t cl = head.find("content-length:");
        if (cl != std::string::npos) length = std::stoul(head.substr(cl + 15));
        if (pending_.size() >= end + 4 + length) {
          out.complete = true;
          out.head = head;
          out.status = std::stoi(head.substr(9, 3));
          out.body = pending_.substr(end + 4, length);
          pending_.erase(0, end + 4 + length);
          return out;
        }
      }
      if (!fill(deadline)) return out;
    }
  }

  // Reads until `needle` has arrived (kept in pending()) or `timeout` passes; false on timeout or close.
  bool read_until(const std::string& needle, std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = Clock::now() + timeout;
    while (pending_.find(needle) == std::string::npos)
      if (!fill(deadline)) return false;
    return true;
  }
  const std::string& pending() const { return pending_; }

  // True when the server closes the connection (EOF or reset) within `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (!fill(deadline)) return eof_;
    }
    return false;
  }

 private:
  bool fill(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buffer[4096];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    pending_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string pending_;
};

}  // namespace flowstone::net::testing
