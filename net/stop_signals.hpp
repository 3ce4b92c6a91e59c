// StopSignals: how a server process waits for SIGTERM or SIGINT. Construct it on the main thread before
// any other thread exists: it blocks both signals (threads inherit the mask, so none of them is
// interrupted) and ignores SIGPIPE (a peer closing a socket must not kill the process). Wait() then takes
// the next stop signal synchronously with sigwait. Main thread only.
#pragma once
#include <pthread.h>
#include <signal.h>

namespace flowstone::net {

class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
  }
  int Wait() {  // the signal's number
    int number = 0;
    sigwait(&set_, &number);
    return number;
  }

 private:
  sigset_t set_;
};

}  // namespace flowstone::net
