// A registry that listens in a directory of its own, and raw connections to it.
#pragma once

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <umod/control.h>
#include <umod/umod.h>

#include "core/fixtures.h"

namespace umod::testing {

// A fresh directory (removed at the end) for the host's socket.
struct ControlDir {
    std::string path;
    ControlDir() {
        char templ[] = "/tmp/umod-control-test-XXXXXX";
        path = mkdtemp(templ);
        chmod(path.c_str(), 0700);
    }
    ~ControlDir() { std::filesystem::remove_all(path); }
    std::string socket() const { return path + "/" + std::to_string(getpid()) + ".sock"; }
};

inline RegistryOptions listening(const ControlDir& dir, ControlAccess access = ControlAccess::Read) {
    RegistryOptions options;
    options.control.access = access;
    options.control.directory = dir.path;
    return options;
}

// A connection that speaks bytes, not the protocol.
inline int raw_connect(const std::string& path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

inline std::string words_request(std::initializer_list<std::string> words) {
    std::vector<std::string> v(words);
    return control::encode_request(v);
}

// Lsmod through a fresh client: what "the host still serves" means.
inline Expected<control::Response> ask(const std::string& socket, std::vector<std::string> words) {
    auto client = control::Client::connect(socket, std::chrono::milliseconds(5000));
    if (!client) return client.error();
    return client->request(words);
}

}  // namespace umod::testing
