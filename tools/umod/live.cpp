#include "live.h"

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <umod/control.h>

namespace umod::tool {

namespace {

struct Target {
    std::string socket;  // empty: no host named
    std::vector<std::string> words;
    bool help = false;
};

Expected<Target> parse_target(std::string_view verb, std::span<char* const> args, PidOption pid_option) {
    Target t;
    t.words.emplace_back(verb);
    auto pid_socket = [](std::string_view text) -> Expected<std::string> {
        int pid = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || pid <= 0)
            return Error(EINVAL, "'" + std::string(text) + "' is not a process id");
        return control::socket_path(pid);
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        auto next = [&]() -> Expected<std::string_view> {
            if (i + 1 >= args.size()) return Error(EINVAL, "option " + std::string(a) + " needs a value");
            return std::string_view(args[++i]);
        };
        Expected<std::string> socket = std::string();
        if (a == "-h" || a == "--help") {
            t.help = true;
            continue;
        } else if ((a == "-p" && pid_option == PidOption::Short) || a == "--pid") {
            auto v = next();
            if (!v) return v.error();
            socket = pid_socket(*v);
        } else if (a.starts_with("--pid=")) {
            socket = pid_socket(a.substr(6));
        } else if (a.starts_with("-p") && a.size() > 2 && pid_option == PidOption::Short && a[2] >= '0' && a[2] <= '9') {
            socket = pid_socket(a.substr(2));
        } else if (a == "--host") {
            auto v = next();
            if (!v) return v.error();
            socket = std::string(*v);
        } else if (a.starts_with("--host=")) {
            socket = std::string(a.substr(7));
        } else {
            t.words.emplace_back(a);
            continue;
        }
        if (!socket) return socket.error();
        t.socket = *socket;
    }
    return t;
}

void print_error(std::string_view verb, int code, std::string_view message, std::string_view more) {
    const char* name = strerrorname_np(code);
    std::fprintf(stderr, "umod %.*s: error %s: %.*s\n", static_cast<int>(verb.size()), verb.data(),
                 name != nullptr ? name : "?", static_cast<int>(message.size()), message.data());
    if (!more.empty()) std::fwrite(more.data(), 1, more.size(), stderr);
}

int monitor(std::string_view verb, control::Client& client, const std::vector<std::string>& words) {
    auto first = client.request(words);
    if (!first) return print_error(verb, first.error().code(), first.error().message(), ""), 1;
    if (first->code != 0) return print_error(verb, first->code, first->message, first->body), 1;
    std::fprintf(stderr, "umod %.*s: watching %s\n", static_cast<int>(verb.size()), verb.data(),
                 client.greeting().c_str());
    std::fflush(stdout);
    for (;;) {
        auto event = client.next_event(std::chrono::hours(24 * 365));
        if (!event) {
            if (event.error().code() == ECONNRESET) return 0;  // the host went away, or -n events were seen
            return print_error(verb, event.error().code(), event.error().message(), ""), 1;
        }
        std::printf("%s\n", event->c_str());
        std::fflush(stdout);
    }
}

}  // namespace

void print_usage(FILE* out, std::string_view verb) {
    const control::VerbInfo* info = control::find_verb(verb);
    if (info == nullptr) return;
    std::fprintf(out, "usage: umod %.*s (-p PID | --host SOCKET)\n       %.*s\n",
                 static_cast<int>(info->usage.size()), info->usage.data(), static_cast<int>(info->summary.size()),
                 info->summary.data());
    std::fprintf(out, "  -p, --pid PID       the live host with that process id (umod ps lists them)\n"
                      "  --host SOCKET       the live host listening on SOCKET\n"
                      "  -h, --help          this text\n");
}

bool names_host(std::span<char* const> args, PidOption pid_option) {
    auto target = parse_target("", args, pid_option);
    return target && !target->socket.empty();
}

int live_main(std::string_view verb, std::span<char* const> args, CommandMain kernel, PidOption pid_option) {
    auto target = parse_target(verb, args, pid_option);
    if (!target) {
        print_error(verb, target.error().code(), target.error().message(), "");
        print_usage(stderr, verb);
        return 1;
    }
    // Without a host the kernel's command has all of its arguments, its own
    // --help included (byte for byte kmod's).
    if (target->socket.empty() && kernel != nullptr) return kernel(verb, args);
    if (target->help) {
        print_usage(stdout, verb);
        return 0;
    }
    if (target->socket.empty()) {
        print_error(verb, EINVAL, "no host given: -p PID or --host SOCKET (umod ps lists the live hosts)", "");
        return 1;
    }
    // The host checks the request; checking it here first gives the usage.
    auto request = control::parse_request(target->words);
    if (!request) {
        print_error(verb, request.error().code(), request.error().message(), "");
        return 1;
    }
    // A file to load is the client's: the host opens it by its absolute path.
    if (request->verb == control::Verb::Insmod || request->verb == control::Verb::Reload) {
        const std::string& file = request->verb == control::Verb::Reload ? request->file : request->module;
        std::error_code ec;
        for (auto& w : target->words)
            if (w == file) {
                w = std::filesystem::absolute(w, ec).string();
                break;
            }
    }
    auto client = control::Client::connect(target->socket);
    if (!client) {
        print_error(verb, client.error().code(), client.error().message(), "");
        return 1;
    }
    if (request->verb == control::Verb::Monitor) return monitor(verb, *client, target->words);
    auto response = client->request(target->words);
    if (!response) {
        print_error(verb, response.error().code(), response.error().message(), "");
        return 1;
    }
    if (response->code != 0) {
        // With --json the error's JSON is the answer (stdout); the line goes to stderr.
        bool json = request->format == control::Format::Json;
        print_error(verb, response->code, response->message, json ? "" : response->body);
        if (json) std::fwrite(response->body.data(), 1, response->body.size(), stdout);
        return 1;
    }
    std::fwrite(response->body.data(), 1, response->body.size(), stdout);
    return 0;
}

}  // namespace umod::tool
