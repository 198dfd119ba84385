// The control endpoint of a live host (docs/control.md): a Unix socket named
// after the pid in a directory only the owner can enter, served by a thread
// of its own. Each connection is checked (SO_PEERCRED: the host's uid or
// root), greeted, then answers one request frame at a time. Everything a
// client can make the host hold is bounded: one request (kMaxRequest) and one
// answer per connection (no more is read until the answer is sent), a queue
// of monitor events, max_connections; a client that stalls is dropped after
// io_timeout, an idle one after idle_timeout. Requests run on this thread and
// read the registry through snapshot(): no lock is held across client I/O.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <umod/control.h>
#include <umod/views.h>

#include "control/endpoint.h"
#include "control/paths.h"

namespace umod::control {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxQueuedEvents = 1024;     // per monitor; beyond, events are counted as dropped
constexpr std::size_t kMaxPendingEvents = 64 * 1024; // bytes of events waiting in a monitor's output
constexpr std::size_t kReadChunk = 16 * 1024;

struct Connection {
    int fd = -1;
    std::uint64_t id = 0;
    std::string in;                 // the request being read: header, then payload
    std::string out;                // bytes still to send
    std::size_t sent = 0;
    Clock::time_point last;         // the last progress in either direction
    bool close_after_flush = false;
    bool closed = false;
    bool monitor = false;
    std::size_t monitor_left = 0;   // events still to send; 0: no limit
    std::size_t pending() const { return out.size() - sent; }
};

struct MonitorFeed {
    Format format = Format::Text;
    std::deque<std::string> lines;
    std::size_t dropped = 0;
};

std::optional<ControlAccess> access_from_environment() {
    const char* text = std::getenv("UMOD_CONTROL");
    if (text == nullptr) return std::nullopt;
    std::string_view v = text;
    if (v.empty() || v == "0" || v == "off") return ControlAccess::Off;
    if (v == "1" || v == "read") return ControlAccess::Read;
    if (v == "manage") return ControlAccess::Manage;
    std::fprintf(stderr, "umod: UMOD_CONTROL=%s is not 0, 1, read or manage; no control endpoint\n", text);
    return ControlAccess::Off;
}

// Makes `dir` if needed; it must be a directory of ours that no one else may
// enter.
Status owner_only_directory(const std::string& dir) {
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return Error(errno, "cannot create " + dir + ": " + std::strerror(errno));
    struct stat st{};
    if (lstat(dir.c_str(), &st) != 0) return Error(errno, dir + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) return Error(ENOTDIR, dir + " is not a directory");
    if (st.st_uid != geteuid())
        return Error(EPERM, dir + " belongs to uid " + std::to_string(st.st_uid) + ", not " +
                                std::to_string(geteuid()));
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
        return Error(EPERM, dir + " may be entered by others (mode " + mode + ", not 700)");
    }
    return {};
}

class Endpoint final : public core::Attachment, public Observer {
public:
    Endpoint(Registry& registry, ControlAccess access, ControlOptions options, std::string path, int listen_fd,
             ino_t inode, int wake_read, int wake_write)
        : registry_(registry), access_(access), options_(std::move(options)), path_(std::move(path)),
          inode_(inode), owner_(getpid()), listen_fd_(listen_fd), wake_read_(wake_read), wake_write_(wake_write) {
        thread_ = std::thread([this] { serve(); });
    }

    ~Endpoint() override {
        if (getpid() != owner_) {  // a forked child: the thread and the socket are the parent's
            thread_.detach();
            return;
        }
        stop_.store(true);
        wake();
        thread_.join();
        for (Connection& c : connections_) close(c.fd);
        if (subscribed_) registry_.unsubscribe(*this);
        close(listen_fd_);
        close(wake_read_);
        close(wake_write_);
        struct stat st{};
        if (lstat(path_.c_str(), &st) == 0 && st.st_ino == inode_) unlink(path_.c_str());
    }

    // On the thread that caused the event, under the registry's observer
    // lock: queue it for every monitor, never block on a client.
    void on_event(const Event& event) override {
        try {
            queue_event(event);
        } catch (const std::exception&) {
            // No memory for the line: the event is lost for the monitors, not the host.
        }
    }

private:
    void queue_event(const Event& event) {
        std::string text, json;
        {
            std::lock_guard lock(feeds_mutex_);
            for (auto& [id, feed] : feeds_) {
                if (feed.lines.size() >= kMaxQueuedEvents) {
                    ++feed.dropped;
                    continue;
                }
                std::string& line = feed.format == Format::Json ? json : text;
                if (line.empty()) line = describe_event(event, feed.format);
                feed.lines.push_back(line);
            }
        }
        wake();
    }

    void wake() {
        char c = 1;
        ssize_t ignored = write(wake_write_, &c, 1);  // a full pipe is awake already
        (void)ignored;
    }

    void serve() {
        std::vector<pollfd> fds;
        while (!stop_.load()) {
            fds.clear();
            fds.push_back({listen_fd_, POLLIN, 0});
            fds.push_back({wake_read_, POLLIN, 0});
            for (const Connection& c : connections_) {
                short events = 0;
                if (c.pending() == 0 || c.monitor) events |= POLLIN;
                if (c.pending() != 0) events |= POLLOUT;
                fds.push_back({c.fd, events, 0});
            }
            int n = poll(fds.data(), fds.size(), static_cast<int>(poll_timeout().count()));
            if (n < 0 && errno != EINTR) break;
            if (n > 0) {
                if (fds[1].revents != 0) drain_wake();
                for (std::size_t i = 0; i < connections_.size(); ++i) {
                    short revents = fds[i + 2].revents;
                    Connection& c = connections_[i];
                    if ((revents & POLLIN) != 0) read_from(c);
                    else if ((revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) c.closed = true;
                    if (!c.closed && (revents & POLLOUT) != 0) flush(c);
                }
                if (fds[0].revents != 0) accept_all();
            }
            feed_monitors();
            expire();
            reap();
        }
    }

    std::chrono::milliseconds poll_timeout() const {
        auto now = Clock::now();
        auto soonest = now + std::chrono::milliseconds(500);
        for (const Connection& c : connections_) {
            if (c.monitor && c.pending() == 0) continue;
            bool busy = !c.in.empty() || c.pending() != 0;
            soonest = std::min(soonest, c.last + (busy ? options_.io_timeout : options_.idle_timeout));
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(soonest - now);
        return std::max(left, std::chrono::milliseconds(1));
    }

    void drain_wake() {
        char buffer[256];
        while (read(wake_read_, buffer, sizeof buffer) > 0) {
        }
    }

    void accept_all() {
        for (;;) {
            int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;  // EAGAIN, or a client gone before we got to it
            std::string prefix = "umod-control " + std::to_string(kProtocolVersion) + " ";
            ucred cred{};
            socklen_t len = sizeof cred;
            if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
                (cred.uid != geteuid() && cred.uid != 0)) {
                refuse(fd, prefix + "refused: uid " + std::to_string(cred.uid) +
                               " may not connect to this host (only uid " + std::to_string(geteuid()) +
                               " and root may)\n");
                continue;
            }
            if (connections_.size() >= options_.max_connections) {
                // Those that hung up or sent garbage in the same burst go first.
                serve_ready_now();
                reap();
            }
            if (connections_.size() >= options_.max_connections) {
                refuse(fd, prefix + "busy: " + std::to_string(connections_.size()) +
                               " connections already; try again later\n");
                continue;
            }
            Connection c;
            c.fd = fd;
            c.id = ++last_id_;
            c.last = Clock::now();
            c.out = prefix + "pid=" + std::to_string(getpid()) + " access=" + std::string(to_string(access_)) + "\n";
            connections_.push_back(std::move(c));
        }
    }

    // One pass over the connections with something to read, without waiting.
    void serve_ready_now() {
        for (int pass = 0; pass < 4; ++pass) {  // a few: data first, then the hang-up
            std::vector<pollfd> fds;
            for (const Connection& c : connections_) fds.push_back({c.fd, POLLIN, 0});
            if (poll(fds.data(), fds.size(), 0) <= 0) return;
            for (std::size_t i = 0; i < fds.size(); ++i) {
                Connection& c = connections_[i];
                if (c.closed) continue;
                if (c.pending() == 0 && (fds[i].revents & POLLIN) != 0) read_from(c);
                else if ((fds[i].revents & (POLLERR | POLLHUP)) != 0) c.closed = true;
            }
        }
    }

    static void refuse(int fd, const std::string& line) {
        ssize_t ignored = send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)ignored;
        close(fd);
    }

    // Reads no more than the request being read still needs.
    void read_from(Connection& c) {
        if (c.monitor) {  // a monitor only listens: input is discarded, EOF ends it
            char buffer[512];
            ssize_t got = recv(c.fd, buffer, sizeof buffer, 0);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) c.closed = true;
            return;
        }
        std::size_t want = 4;
        if (c.in.size() >= 4) want = 4 + declared_length(c);
        std::size_t room = std::min(want - c.in.size(), kReadChunk);
        char buffer[kReadChunk];
        ssize_t got = recv(c.fd, buffer, room, 0);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
            c.closed = true;  // gone, maybe mid-request: nothing was started
            return;
        }
        if (got < 0) return;
        c.last = Clock::now();
        c.in.append(buffer, static_cast<std::size_t>(got));
        if (c.in.size() == 4 && declared_length(c) > kMaxRequest) {
            answer_error(c, Error(EMSGSIZE, "a request of " + std::to_string(declared_length(c)) +
                                                " bytes (at most " + std::to_string(kMaxRequest) + ")"),
                         false);
            c.close_after_flush = true;
            c.in.clear();
            return;
        }
        if (c.in.size() >= 4 && c.in.size() == 4 + declared_length(c)) {
            std::string payload = c.in.substr(4);
            c.in.clear();
            handle(c, payload);
        }
    }

    static std::size_t declared_length(const Connection& c) {
        auto b = [&](int i) { return static_cast<std::size_t>(static_cast<unsigned char>(c.in[i])); };
        return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
    }

    // Nothing a request does may end the host: an exception (no memory, a
    // name that is not UTF-8 in a JSON view) becomes an error answer.
    void handle(Connection& c, const std::string& payload) {
        try {
            handle_checked(c, payload);
        } catch (const std::exception& e) {
            answer_error(c, Error(EIO, std::string("the host could not answer: ") + e.what()), false);
        }
    }

    void handle_checked(Connection& c, const std::string& payload) {
        auto words = decode_request(payload);
        if (!words) return answer_error(c, words.error(), false);
        bool json = std::find(words->begin(), words->end(), "--json") != words->end();
        auto request = parse_request(*words);
        if (!request) return answer_error(c, request.error(), json);
        if (request->verb == Verb::Monitor) {
            c.monitor = true;
            c.monitor_left = request->count;
            {
                std::lock_guard lock(feeds_mutex_);
                feeds_[c.id].format = request->format;
            }
            if (!subscribed_) {
                registry_.subscribe(*this, ObserveGetPut::Yes);
                subscribed_ = true;
            }
            queue(c, "ok\n");
            return;
        }
        auto answer = execute(registry_, *request, access_, Reports::InAnswer);
        if (!answer) return answer_error(c, answer.error(), json);
        if (answer->size() > kMaxResponse)
            return answer_error(c, Error(EFBIG, "the answer is larger than " + std::to_string(kMaxResponse) +
                                                    " bytes"), json);
        queue(c, "ok\n" + *answer);
    }

    void answer_error(Connection& c, const Error& error, bool json) {
        // The message's first line, then (JSON) the error as JSON, or the
        // message's further lines (stacks).
        std::string_view message = error.message();
        std::size_t nl = message.find('\n');
        std::string payload = "error " + std::to_string(error.code()) + "\n" + std::string(message.substr(0, nl)) + "\n";
        if (json) payload += views::json(error);
        else if (nl != std::string_view::npos) payload += std::string(message.substr(nl + 1)) + "\n";
        queue(c, payload);
    }

    void queue(Connection& c, std::string_view payload) {
        c.out += frame(payload);
        c.last = Clock::now();
        flush(c);
    }

    void flush(Connection& c) {
        while (c.pending() != 0) {
            ssize_t sent = send(c.fd, c.out.data() + c.sent, c.pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (sent < 0) {
                if (errno == EAGAIN || errno == EINTR) return;
                c.closed = true;
                return;
            }
            c.sent += static_cast<std::size_t>(sent);
            c.last = Clock::now();
        }
        c.out.clear();
        c.sent = 0;
        if (c.close_after_flush) c.closed = true;
    }

    void feed_monitors() {
        for (Connection& c : connections_) {
            if (!c.monitor || c.closed || c.close_after_flush) continue;
            std::vector<std::string> lines;
            std::size_t dropped = 0;
            {
                std::lock_guard lock(feeds_mutex_);
                MonitorFeed& feed = feeds_[c.id];
                while (!feed.lines.empty() && c.pending() + 64 < kMaxPendingEvents &&
                       (c.monitor_left == 0 || lines.size() < c.monitor_left)) {
                    lines.push_back(std::move(feed.lines.front()));
                    feed.lines.pop_front();
                }
                dropped = std::exchange(feed.dropped, 0);
            }
            if (dropped != 0)
                c.out += frame("event\ndropped " + std::to_string(dropped) + " event(s): the client read too slowly");
            for (const std::string& line : lines) {
                c.out += frame("event\n" + line);
                if (c.monitor_left != 0 && --c.monitor_left == 0) {
                    c.close_after_flush = true;
                    break;
                }
            }
            if (c.pending() != 0) flush(c);
        }
    }

    void expire() {
        auto now = Clock::now();
        for (Connection& c : connections_) {
            if (c.closed) continue;
            bool busy = !c.in.empty() || c.pending() != 0;
            if (c.monitor && !busy) continue;
            if (now - c.last > (busy ? options_.io_timeout : options_.idle_timeout)) c.closed = true;
        }
    }

    void reap() {
        bool monitors = false;
        for (auto it = connections_.begin(); it != connections_.end();) {
            if (it->closed) {
                close(it->fd);
                if (it->monitor) {
                    std::lock_guard lock(feeds_mutex_);
                    feeds_.erase(it->id);
                }
                it = connections_.erase(it);
            } else {
                monitors |= it->monitor;
                ++it;
            }
        }
        if (subscribed_ && !monitors) {
            registry_.unsubscribe(*this);
            subscribed_ = false;
        }
    }

    Registry& registry_;
    const ControlAccess access_;
    const ControlOptions options_;
    const std::string path_;
    const ino_t inode_;
    const pid_t owner_;
    const int listen_fd_, wake_read_, wake_write_;
    std::atomic<bool> stop_{false};
    // The serving thread's own.
    std::vector<Connection> connections_;
    std::uint64_t last_id_ = 0;
    bool subscribed_ = false;
    // Shared with on_event.
    std::mutex feeds_mutex_;
    std::map<std::uint64_t, MonitorFeed> feeds_;
    std::thread thread_;  // last: started once everything else is set
};

}  // namespace

std::unique_ptr<core::Attachment> start_endpoint(Registry& registry, const RegistryOptions& options) {
    ControlAccess access = options.control.access ? *options.control.access
                                                  : access_from_environment().value_or(ControlAccess::Off);
    if (access == ControlAccess::Off) return nullptr;
    auto fail = [](const std::string& why) -> std::unique_ptr<core::Attachment> {
        std::fprintf(stderr, "umod: no control endpoint: %s\n", why.c_str());
        return nullptr;
    };
    std::string dir = options.control.directory.empty() ? control_directory() : options.control.directory;
    if (Status s = owner_only_directory(dir); !s) return fail(s.error().message());
    remove_stale_sockets(dir);
    std::string path = dir + "/" + std::to_string(getpid()) + ".sock";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path)) return fail("socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    unlink(path.c_str());  // a socket left by an earlier process with our pid
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(std::string("socket: ") + std::strerror(errno));
    if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || chmod(path.c_str(), 0600) != 0 ||
        listen(fd, 64) != 0) {
        std::string why = path + ": " + std::strerror(errno);
        close(fd);
        unlink(path.c_str());
        return fail(why);
    }
    struct stat st{};
    lstat(path.c_str(), &st);
    int wake[2];
    if (pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        close(fd);
        unlink(path.c_str());
        return fail(std::string("pipe: ") + std::strerror(errno));
    }
    return std::make_unique<Endpoint>(registry, access, options.control, path, fd, st.st_ino, wake[0], wake[1]);
}

}  // namespace umod::control
