#include "fakes/process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace dp::testing {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(5);

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error("Process: " + what + ": " + std::strerror(errno));
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Everything the child needs, prepared before fork(): after fork() in a threaded process only
// async-signal-safe calls are allowed, so no allocation happens there.
struct ExecPlan {
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

ExecPlan plan_exec(std::vector<std::string> args, const EnvVars& env) {
  ExecPlan plan;
  plan.argv_storage = std::move(args);
  std::map<std::string, std::string> merged;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    merged[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  for (const auto& [k, v] : env) merged[k] = v;
  for (const auto& [k, v] : merged) {
    plan.env_storage.push_back(k);
    plan.env_storage.back().append("=").append(v);
  }
  for (auto& s : plan.argv_storage) plan.argv.push_back(s.data());
  plan.argv.push_back(nullptr);
  for (auto& s : plan.env_storage) plan.envp.push_back(s.data());
  plan.envp.push_back(nullptr);
  return plan;
}

// Forks and execs; the child's stdout/stderr go to out_fd/err_fd. Throws if exec fails.
pid_t spawn(ExecPlan& plan, int out_fd, int err_fd) {
  if (plan.argv.size() < 2) throw std::runtime_error("Process: empty argv");
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) fail_errno("pipe2");
  Fd err_r(pipefd[0]);
  Fd err_w(pipefd[1]);
  Fd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_fd.get() < 0) fail_errno("open /dev/null");
  const pid_t parent = getpid();

  const pid_t pid = fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);  // undo a test's blocked SIGTERM/SIGINT
    if (dup2(null_fd.get(), 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0 ||
        dup2(err_w.get(), 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) != 0) {
      _exit(127);
    }
    close_range(4, ~0U, 0);  // no inherited listeners or TLS sockets of the test process
    execvpe(plan.argv[0], plan.argv.data(), plan.envp.data());
    const int e = errno;
    [[maybe_unused]] ssize_t n = write(3, &e, sizeof e);
    _exit(127);
  }
  err_w.reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(err_r.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof child_errno) {
    int status = 0;
    waitpid(pid, &status, 0);
    throw std::runtime_error("Process: cannot execute " + plan.argv_storage[0] + ": " +
                             std::strerror(child_errno));
  }
  return pid;
}

int open_output(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail_errno("open " + path);
  return fd;
}

// Waits for `pid` up to `timeout`; the exit code, or nullopt if it is still running.
std::optional<int> reap(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return exit_code_of(status);
    if (r < 0 && errno != EINTR) return -1;  // not our child any more: treat as gone
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

std::string read_file_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Process::Process(std::vector<std::string> argv, const EnvVars& env)
    : dir_("dotproxy-proc"), stdout_file_(dir_.file("stdout")), stderr_file_(dir_.file("stderr")) {
  ExecPlan plan = plan_exec(std::move(argv), env);
  Fd out(open_output(stdout_file_));
  Fd err(open_output(stderr_file_));
  pid_ = spawn(plan, out.get(), err.get());
}

Process::~Process() {
  if (!exit_code_) terminate(std::chrono::seconds(2));
}

bool Process::running() {
  if (exit_code_) return false;
  exit_code_ = reap(pid_, std::chrono::milliseconds(0));
  return !exit_code_;
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
  if (!exit_code_) exit_code_ = reap(pid_, timeout);
  return exit_code_;
}

int Process::terminate(std::chrono::milliseconds grace) {
  if (exit_code_) return *exit_code_;
  kill(pid_, SIGTERM);
  if (wait_exit(grace)) return *exit_code_;
  kill(pid_, SIGKILL);
  exit_code_ = reap(pid_, std::chrono::seconds(10));  // SIGKILL cannot be ignored
  if (!exit_code_) exit_code_ = -1;
  return *exit_code_;
}

void Process::signal(int signo) {
  if (!exit_code_) kill(pid_, signo);
}

std::string Process::stdout_text() const { return read_file_text(stdout_file_); }
std::string Process::stderr_text() const { return read_file_text(stderr_file_); }

bool Process::wait_for_stdout(std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (stdout_text().find(needle) != std::string::npos) return true;
    if (!running() || std::chrono::steady_clock::now() >= deadline) {
      return stdout_text().find(needle) != std::string::npos;  // it may have printed and exited
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

CaptureResult run_capture(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  Process p(std::move(argv));
  CaptureResult result;
  if (std::optional<int> code = p.wait_exit(timeout)) {
    result.exit_code = *code;
  } else {
    p.terminate(std::chrono::milliseconds(500));
    result.exit_code = -1;
  }
  result.out = p.stdout_text();
  result.err = p.stderr_text();
  return result;
}

std::uint16_t free_port_udp_tcp() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    Fd tcp(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    Fd udp(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (tcp.get() < 0 || udp.get() < 0) fail_errno("socket");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (bind(tcp.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
      continue;
    }
    // The same number must also be free for UDP (Unbound, dotproxy listen on both).
    if (bind(udp.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
      return ntohs(sa.sin_port);
    }
  }
  throw std::runtime_error("free_port_udp_tcp: no port free for both TCP and UDP");
}

}  // namespace dp::testing
