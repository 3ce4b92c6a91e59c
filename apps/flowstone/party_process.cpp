#include "apps/flowstone/party_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "net/http_client.hpp"
#include "net/json_io.hpp"

namespace flowstone::cli {

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

PartyProcess::PartyProcess(std::string flowstone_binary, std::string dir, std::string party_id, uint16_t port,
                           std::string extra_yaml, std::string flowstone_yaml)
    : binary_(std::move(flowstone_binary)),
      dir_(std::move(dir)),
      party_id_(std::move(party_id)),
      extra_yaml_(std::move(extra_yaml)),
      flowstone_yaml_(std::move(flowstone_yaml)),
      port_(port ? port : free_port()) {}

PartyProcess::~PartyProcess() {
  if (pid_ > 0) Stop();
}

std::string PartyProcess::Start() {
  std::filesystem::create_directories(dir_);
  std::ofstream(config_path()) << "party_id: \"" << party_id_ << "\"\n"
                               << "fateflow: {host: 127.0.0.1, http_port: " << port_ << "}\n"
                               << (extra_yaml_.find("computing:") == std::string::npos
                                       ? "computing: {standalone: {cores: 32}}\n"
                                       : "")
                               << "flowstone: {data_dir: ./data"
                               << (flowstone_yaml_.empty() ? "" : ", " + flowstone_yaml_) << "}\n"
                               << extra_yaml_;
  std::string out = dir_ + "/server.out";
  std::string conf = config_path();
  pid_ = ::fork();
  if (pid_ == 0) {
    std::FILE* f = std::freopen(out.c_str(), "a", stderr);
    (void)f;
    ::execl(binary_.c_str(), binary_.c_str(), "serve", "--config", conf.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid_ < 0) return "fork failed";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto info = Get("site/info/query");
    if (info && info->value("code", -1) == 0) return "";
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return "the server exited at start (see " + out + ")";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "the server did not answer within 30 s (see " + out + ")";
}

int PartyProcess::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

void PartyProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

namespace {
std::optional<Json> send(net::HttpCall call) {
  auto result = net::http_call(call);
  if (!result.ok) return std::nullopt;
  std::string error;
  return net::parse_json(result.body, &error);
}
}  // namespace

std::optional<Json> PartyProcess::Get(const std::string& route,
                                      const std::vector<std::pair<std::string, std::string>>& query) {
  net::HttpCall call;
  call.port = port_;
  call.target = "/v2/" + route + (query.empty() ? "" : "?" + net::encode_query(query));
  return send(call);
}

std::optional<Json> PartyProcess::Post(const std::string& route, const Json& body) {
  net::HttpCall call;
  call.method = "POST";
  call.port = port_;
  call.target = "/v2/" + route;
  call.body = body.dump();
  return send(call);
}

}  // namespace flowstone::cli
