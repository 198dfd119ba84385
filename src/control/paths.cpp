// Where live hosts put their sockets, and `umod ps`'s list of them.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>

#include <umod/control.h>

#include "control/paths.h"

namespace umod::control {

namespace {

// The pid a socket's file name stands for ("1234.sock"); 0 otherwise.
pid_t socket_pid(std::string_view name) {
    if (!name.ends_with(".sock")) return 0;
    name.remove_suffix(5);
    int pid = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || end != name.data() + name.size() || pid <= 0) return 0;
    return pid;
}

bool process_gone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace

std::string control_directory() {
    if (const char* dir = std::getenv("UMOD_CONTROL_DIR"); dir != nullptr && *dir != '\0') return dir;
    if (geteuid() == 0) return "/run/umod";
    if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg != '\0')
        return std::string(xdg) + "/umod";
    return "/tmp/umod-" + std::to_string(geteuid());
}

std::string socket_path(pid_t pid) {
    std::string mine = control_directory() + "/" + std::to_string(pid) + ".sock";
    struct stat st{};
    if (stat(mine.c_str(), &st) == 0 || geteuid() != 0 || std::getenv("UMOD_CONTROL_DIR") != nullptr) return mine;
    // Root looking at another user's host: that user's runtime directory.
    if (stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0 && st.st_uid != 0) {
        std::string theirs = "/run/user/" + std::to_string(st.st_uid) + "/umod/" + std::to_string(pid) + ".sock";
        if (stat(theirs.c_str(), &st) == 0) return theirs;
    }
    return mine;
}

void remove_stale_sockets(const std::string& directory) {
    DIR* dir = opendir(directory.c_str());
    if (dir == nullptr) return;
    while (const dirent* entry = readdir(dir)) {
        pid_t pid = socket_pid(entry->d_name);
        if (pid != 0 && process_gone(pid)) unlinkat(dirfd(dir), entry->d_name, 0);
    }
    closedir(dir);
}

std::vector<HostInfo> list_hosts() {
    std::string directory = control_directory();
    remove_stale_sockets(directory);
    std::vector<HostInfo> hosts;
    DIR* dir = opendir(directory.c_str());
    if (dir == nullptr) return hosts;
    std::vector<pid_t> pids;
    while (const dirent* entry = readdir(dir))
        if (pid_t pid = socket_pid(entry->d_name)) pids.push_back(pid);
    closedir(dir);
    std::sort(pids.begin(), pids.end());
    for (pid_t pid : pids) {
        HostInfo host{.pid = pid, .socket = directory + "/" + std::to_string(pid) + ".sock"};
        auto client = Client::connect(host.socket, std::chrono::milliseconds(2000));
        if (!client) {
            // Nobody listens: a host that died without its teardown whose pid
            // was reused.
            if (client.error().code() == ECONNREFUSED) unlink(host.socket.c_str());
            continue;
        }
        std::vector<std::string> words{"status"};
        auto status = client->request(words);
        if (!status || status->code != 0) continue;
        std::string_view body = status->body;
        while (!body.empty()) {
            std::size_t nl = body.find('\n');
            std::string_view line = body.substr(0, nl);
            body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
            std::size_t space = line.find(' ');
            if (space == std::string_view::npos) continue;
            std::string_view key = line.substr(0, space), value = line.substr(space + 1);
            if (key == "program") host.program = value;
            if (key == "modules") std::from_chars(value.data(), value.data() + value.size(), host.modules);
            if (key == "access") host.access = value == "manage" ? ControlAccess::Manage : ControlAccess::Read;
        }
        hosts.push_back(std::move(host));
    }
    return hosts;
}

}  // namespace umod::control
