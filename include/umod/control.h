// umod — live hosts: the requests a running host answers about its modules,
// the wire protocol of its control endpoint (docs/control.md), and a client.
//
// A host opts in with RegistryOptions::control or UMOD_CONTROL=1 (see
// ControlOptions in <umod/umod.h>). The same request table serves the
// endpoint, `umod run` scripts and the `umod` command line: a request is a
// list of words, the verb first, as a command line would give them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <umod/expected.h>
#include <umod/umod.h>

namespace umod::control {

inline constexpr int kProtocolVersion = 1;
// The largest request payload a host accepts; larger lengths are refused
// (EMSGSIZE) and the connection is closed.
inline constexpr std::size_t kMaxRequest = 64 * 1024;
inline constexpr std::size_t kMaxWords = 256;
inline constexpr std::size_t kMaxWord = 4096;
// The largest answer a host sends (a client refuses larger frames).
inline constexpr std::size_t kMaxResponse = 64u << 20;

enum class Verb : std::uint8_t {
    Lsmod, ProcModules, Holders, Graph, Modinfo, Monitor, Status, Insmod, Rmmod, Track,
    Reload,
};
enum class Changes : std::uint8_t { No, Yes };  // needs ControlAccess::Manage
enum class Format : std::uint8_t { Text, Json, Dot };

struct VerbInfo {
    Verb verb;
    std::string_view name;
    std::string_view usage;    // "holders MODULE [--json]"
    std::string_view summary;
    Changes changes;
};
// The one request table (also listed by `umod run`'s help and `umod --help`).
std::span<const VerbInfo> verbs();
const VerbInfo* find_verb(std::string_view name);

// A request, checked: what the words asked for.
struct Request {
    Verb verb = Verb::Status;
    Format format = Format::Text;
    std::string module;                // holders, modinfo, rmmod; insmod: the file
    std::vector<std::string> params;   // insmod name=value...
    UnloadOptions unload;              // rmmod -f, -w / --wait[=MS]
    std::optional<TrackLevel> track;   // track LEVEL; unset: print the level
    std::size_t count = 0;             // monitor -n N: stop after N events (0: never)
    std::string file;                  // reload: the new file (params: its name=value...)
    ReloadOptions reload;              // reload -f, -w / --wait[=MS]
    bool dry_run = false;              // reload --dry-run: the plan, nothing done
};
// EINVAL naming the word at fault (an unknown verb or option, a missing or
// extra argument, --wait=abc); never throws.
Expected<Request> parse_request(std::span<const std::string> words);
// The wait `-w` alone means, and the most any wait may ask for.
inline constexpr std::chrono::milliseconds kDefaultWait{10000};
inline constexpr std::chrono::milliseconds kMaxWait{60000};

// Answers a request on `registry` (not Monitor, which the endpoint streams):
// the text or JSON to print, or the error (EPERM for a change without
// Manage). Reads the registry through snapshot() and holders(): no lock is
// held once it returns. Runs module init or exit for insmod and rmmod.
// Reports of an unload (leaks, code left mapped) go in the answer, or are
// left to the caller's observer (`umod run` prints the registry's events).
enum class Reports : std::uint8_t { InAnswer, Elsewhere };
Expected<std::string> execute(Registry& registry, const Request& request, ControlAccess access,
                              Reports reports = Reports::InAnswer);
std::string_view to_string(ControlAccess access);  // "off", "read", "manage"

// One monitor event line (text: "get ext4 crc:crc16", JSON: one object).
std::string describe_event(const Event& event, Format format);

// Frames: a 4-byte big-endian length, then the payload. A request's payload
// is its words, each followed by a NUL byte.
std::string encode_request(std::span<const std::string> words);
// EMSGSIZE beyond the limits above; EINVAL for an empty payload, a missing
// final NUL, an empty verb.
Expected<std::vector<std::string>> decode_request(std::string_view payload);
std::string frame(std::string_view payload);

// Where the calling user's hosts put their sockets: $UMOD_CONTROL_DIR, else
// /run/umod for root, else $XDG_RUNTIME_DIR/umod, else /tmp/umod-UID.
std::string control_directory();
// DIRECTORY/PID.sock; for root, a host of another user is looked for in
// /run/user/UID/umod too.
std::string socket_path(pid_t pid);

// A live host as `umod ps` lists it.
struct HostInfo {
    pid_t pid = 0;
    std::string program;
    std::size_t modules = 0;
    ControlAccess access = ControlAccess::Read;
    std::string socket;
};
// The hosts whose sockets are in control_directory(); sockets of processes
// that are gone are removed on the way.
std::vector<HostInfo> list_hosts();

// A response as a client receives it.
struct Response {
    int code = 0;          // 0, or the errno the host answered
    std::string message;   // the error's one-line message
    std::string body;      // the text or JSON (for an error with --json: its JSON)
};

// A client connection to one host. Blocking, with a time-out for each answer.
class Client {
public:
    // Connects and reads the host's greeting. EACCES with the host's refusal
    // line when the peer is not allowed; EAGAIN when the host is full; the
    // connect error otherwise (ENOENT: no such host).
    static Expected<Client> connect(const std::string& socket,
                                    std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
    Client(Client&& other) noexcept;
    Client& operator=(Client&& other) noexcept;
    ~Client();

    const std::string& greeting() const { return greeting_; }
    Expected<Response> request(std::span<const std::string> words);
    // After a monitor request: the next event line, waiting at most `timeout`
    // (ETIMEDOUT), ECONNRESET when the host went away.
    Expected<std::string> next_event(std::chrono::milliseconds timeout);

private:
    explicit Client(int fd) : fd_(fd) {}
    Expected<std::string> read_frame(std::chrono::milliseconds timeout);
    int fd_ = -1;
    std::chrono::milliseconds timeout_{10000};
    std::string greeting_;
};

}  // namespace umod::control
