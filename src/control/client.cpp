// The client side of the control protocol (docs/control.md): what `umod
// lsmod -p PID` and the other commands use to talk to a live host.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <umod/control.h>

namespace umod::control {

namespace {

using Clock = std::chrono::steady_clock;

Error io_error(int code, std::string what) { return Error(code, what + ": " + std::strerror(code)); }

// Waits until fd is readable or the deadline passes.
Status wait_readable(int fd, Clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return Error(ETIMEDOUT, "the host did not answer in time");
        pollfd p{fd, POLLIN, 0};
        int n = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
        if (n > 0) return {};
        if (n < 0 && errno != EINTR) return io_error(errno, "poll");
    }
}

// Reads exactly `n` bytes.
Status read_exact(int fd, char* out, std::size_t n, Clock::time_point deadline) {
    while (n > 0) {
        if (Status s = wait_readable(fd, deadline); !s) return s;
        ssize_t got = recv(fd, out, n, 0);
        if (got == 0) return Error(ECONNRESET, "the host closed the connection");
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return io_error(errno, "recv");
        }
        out += got;
        n -= static_cast<std::size_t>(got);
    }
    return {};
}

Status write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t sent = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            return io_error(errno, "send");
        }
        data.remove_prefix(static_cast<std::size_t>(sent));
    }
    return {};
}

}  // namespace

Expected<Client> Client::connect(const std::string& socket_path, std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof(addr.sun_path))
        return Error(ENAMETOOLONG, "socket path too long: " + socket_path);
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return io_error(errno, "socket");
    Client client(fd);
    client.timeout_ = timeout;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0)
        return io_error(errno, socket_path);
    // The greeting: one line, "umod-control 1 ..." or a refusal.
    auto deadline = Clock::now() + timeout;
    std::string line;
    for (char c = 0; line.size() < 1024;) {
        if (Status s = read_exact(fd, &c, 1, deadline); !s) return s.error();
        if (c == '\n') break;
        line += c;
    }
    std::string expected = "umod-control " + std::to_string(kProtocolVersion);
    if (!line.starts_with(expected + " ")) return Error(EPROTO, socket_path + ": not a umod host: " + line);
    std::string_view rest = std::string_view(line).substr(expected.size() + 1);
    if (rest.starts_with("refused")) return Error(EACCES, std::string(rest));
    if (rest.starts_with("busy")) return Error(EAGAIN, std::string(rest));
    client.greeting_ = line;
    return client;
}

Client::Client(Client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), timeout_(other.timeout_), greeting_(std::move(other.greeting_)) {}

Client& Client::operator=(Client&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        timeout_ = other.timeout_;
        greeting_ = std::move(other.greeting_);
    }
    return *this;
}

Client::~Client() {
    if (fd_ >= 0) close(fd_);
}

Expected<std::string> Client::read_frame(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    unsigned char header[4];
    if (Status s = read_exact(fd_, reinterpret_cast<char*>(header), 4, deadline); !s) return s.error();
    std::size_t n = (std::size_t{header[0]} << 24) | (std::size_t{header[1]} << 16) | (std::size_t{header[2]} << 8) |
                    header[3];
    if (n > kMaxResponse) return Error(EMSGSIZE, "the host sent a frame of " + std::to_string(n) + " bytes");
    std::string payload(n, '\0');
    if (Status s = read_exact(fd_, payload.data(), n, deadline); !s) return s.error();
    return payload;
}

Expected<Response> Client::request(std::span<const std::string> words) {
    if (Status s = write_all(fd_, encode_request(words)); !s) return s.error();
    auto payload = read_frame(timeout_);
    if (!payload) return payload.error();
    // "ok\nBODY" or "error CODE\nMESSAGE\nBODY".
    std::string_view p = *payload;
    std::size_t nl = p.find('\n');
    if (nl == std::string_view::npos) return Error(EPROTO, "a malformed answer from the host");
    std::string_view head = p.substr(0, nl);
    p.remove_prefix(nl + 1);
    Response response;
    if (head == "ok") {
        response.body = std::string(p);
        return response;
    }
    if (!head.starts_with("error ")) return Error(EPROTO, "a malformed answer from the host");
    response.code = std::atoi(std::string(head.substr(6)).c_str());
    if (response.code <= 0) response.code = EPROTO;
    nl = p.find('\n');
    response.message = std::string(p.substr(0, nl));
    if (nl != std::string_view::npos) response.body = std::string(p.substr(nl + 1));
    return response;
}

Expected<std::string> Client::next_event(std::chrono::milliseconds timeout) {
    auto payload = read_frame(timeout);
    if (!payload) return payload.error();
    if (!payload->starts_with("event\n")) return Error(EPROTO, "a malformed event from the host");
    return payload->substr(6);
}

}  // namespace umod::control
