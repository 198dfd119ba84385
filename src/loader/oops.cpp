#include "loader/oops.h"

#include <elf.h>
#include <sched.h>
#include <signal.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <vector>

#include "elf/elf_file.h"
#include "elf/umod_module.h"

namespace umod::loader {

struct OopsRecord::Entry {
    std::uintptr_t base = 0;
    std::uint64_t size = 0;
    std::string module;
    std::string file;
    std::vector<Function> functions;  // sorted by offset
    std::atomic<int> state{static_cast<int>(OopsState::Coming)};
};

namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
constexpr std::size_t kSlots = 512;

std::atomic<OopsRecord::Entry*> slots[kSlots];
std::atomic<int> readers{0};   // handlers reading `slots`
std::atomic<bool> enabled{false};
struct sigaction previous[NSIG];  // written once, before the handlers are installed
std::atomic<std::uintptr_t> last_reported{0};

// ---- what the handler writes, without allocating ------------------------------

class Line {
public:
    void add(std::string_view s) {
        std::size_t n = std::min(s.size(), sizeof(buffer_) - 1 - used_);
        std::memcpy(buffer_ + used_, s.data(), n);
        used_ += n;
    }
    void hex(std::uint64_t v) {
        char digits[18];
        int i = 0;
        do {
            digits[i++] = "0123456789abcdef"[v & 15];
            v >>= 4;
        } while (v != 0);
        add("0x");
        while (i > 0) add(std::string_view(&digits[--i], 1));
    }
    void write_out() {
        buffer_[used_++] = '\n';
        for (std::size_t done = 0; done < used_;) {
            ssize_t n = ::write(STDERR_FILENO, buffer_ + done, used_ - done);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
    }

private:
    char buffer_[512];
    std::size_t used_ = 0;
};

std::string_view signal_name(int sig) {
    switch (sig) {
        case SIGSEGV: return "SIGSEGV";
        case SIGBUS: return "SIGBUS";
        case SIGILL: return "SIGILL";
        case SIGFPE: return "SIGFPE";
        case SIGABRT: return "SIGABRT";
        default: return "signal";
    }
}

std::string_view state_name(int state) {
    switch (static_cast<OopsState>(state)) {
        case OopsState::Coming: return "Coming";
        case OopsState::Live: return "Live";
        case OopsState::Going: return "Going";
    }
    return "?";
}

const OopsRecord::Entry* module_at(std::uintptr_t address) {
    for (auto& slot : slots) {
        const OopsRecord::Entry* e = slot.load();
        if (e != nullptr && address >= e->base && address - e->base < e->size) return e;
    }
    return nullptr;
}

// Reads 8 bytes of this process's memory; false (no fault) where none are mapped.
bool peek(std::uintptr_t address, std::uintptr_t& value) {
    iovec local{&value, sizeof value};
    iovec remote{reinterpret_cast<void*>(address), sizeof value};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(sizeof value);
}

// The first address in a module: the signal's instruction, else a return
// address up the frame-pointer chain.
std::uintptr_t code_address(const ucontext_t* context, const OopsRecord::Entry*& module) {
    auto pc = static_cast<std::uintptr_t>(context->uc_mcontext.gregs[REG_RIP]);
    if ((module = module_at(pc)) != nullptr) return pc;
    // A call through a bad pointer stops before the callee's frame exists:
    // the return address is on top of the stack.
    std::uintptr_t top = 0;
    if (peek(static_cast<std::uintptr_t>(context->uc_mcontext.gregs[REG_RSP]), top) &&
        (module = module_at(top - 1)) != nullptr)
        return top;
    auto frame = static_cast<std::uintptr_t>(context->uc_mcontext.gregs[REG_RBP]);
    for (int depth = 0; depth < 64 && frame != 0; ++depth) {
        std::uintptr_t next = 0, ret = 0;
        if (!peek(frame, next) || !peek(frame + 8, ret)) break;
        // A return address points after the call: look up the call itself.
        if ((module = module_at(ret - 1)) != nullptr) return ret;
        if (next <= frame) break;  // stacks grow down: a chain that does not climb is broken
        frame = next;
    }
    return pc;
}

void report(int sig, const ucontext_t* context) {
    const OopsRecord::Entry* module = nullptr;
    std::uintptr_t at = code_address(context, module);
    if (last_reported.exchange(at ^ static_cast<std::uintptr_t>(sig)) == (at ^ static_cast<std::uintptr_t>(sig)))
        return;  // the same fault again (a handler returned to it): said already
    Line line;
    line.add("umod: oops: ");
    line.add(signal_name(sig));
    if (module == nullptr) {
        line.add(" at ");
        line.hex(at);
        line.add(", not in a module's code");
        line.write_out();
        return;
    }
    line.add(" in ");
    line.add(module->file);
    line.add(": ");
    std::uint64_t offset = at - module->base;
    auto& fns = module->functions;
    auto it = std::upper_bound(fns.begin(), fns.end(), offset,
                               [](std::uint64_t o, const OopsRecord::Function& f) { return o < f.offset; });
    if (it != fns.begin() && offset - std::prev(it)->offset < std::max<std::uint64_t>(std::prev(it)->size, 1)) {
        line.add(std::prev(it)->name);
        line.add("+");
        line.hex(offset - std::prev(it)->offset);
    } else {
        line.hex(offset);
    }
    line.add(" (module ");
    line.add(module->module);
    line.add(", ");
    line.add(state_name(module->state.load()));
    line.add(")");
    line.write_out();
}

// What would have happened without the reporter.
void chain(int sig, siginfo_t* info, void* context) {
    const struct sigaction& before = previous[sig];
    if (before.sa_flags & SA_SIGINFO) {
        if (before.sa_sigaction != nullptr) return before.sa_sigaction(sig, info, context);
    } else if (before.sa_handler != SIG_DFL && before.sa_handler != SIG_IGN) {
        return before.sa_handler(sig);
    } else if (before.sa_handler == SIG_IGN && info->si_code <= 0) {
        return;  // sent by someone and ignored: nothing happens
    }
    // The default action: as the signal is blocked here, it is delivered
    // (and a fault taken again) once this handler returns.
    signal(sig, SIG_DFL);
    raise(sig);
}

void on_signal(int sig, siginfo_t* info, void* context) {
    int saved_errno = errno;
    readers.fetch_add(1);
    report(sig, static_cast<const ucontext_t*>(context));
    readers.fetch_sub(1);
    errno = saved_errno;
    chain(sig, info, context);
}

void set_up_alternate_stack() {
    stack_t current{};
    if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;  // the host's
    static std::vector<char> memory(std::max<std::size_t>(SIGSTKSZ, 64 * 1024));
    stack_t stack{};
    stack.ss_sp = memory.data();
    stack.ss_size = memory.size();
    sigaltstack(&stack, nullptr);
}

std::vector<OopsRecord::Function> functions_of(std::span<const std::byte> bytes) {
    std::vector<OopsRecord::Function> out;
    auto elf = elf::ElfFile::parse(bytes);
    if (!elf) return out;
    const elf::Section* table = elf->section(".symtab");
    if (table == nullptr) table = elf->section(".dynsym");
    if (table == nullptr) return out;
    auto symbols = elf->symbols(*table);
    if (!symbols) return out;
    for (const elf::Symbol& s : *symbols)
        if (s.type == STT_FUNC && s.shndx != SHN_UNDEF && !s.name.empty())
            out.push_back({s.value, s.size, elf::readable_name(s.name)});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.offset < b.offset; });
    return out;
}

}  // namespace

bool oops_wanted(bool option) {
    if (option) return true;
    const char* v = std::getenv("UMOD_OOPS");
    return v != nullptr && std::string_view(v) == "1";
}

void enable_oops() {
    static std::once_flag once;
    std::call_once(once, [] {
        set_up_alternate_stack();
        for (int sig : kSignals) {
            struct sigaction action {};
            action.sa_sigaction = on_signal;
            action.sa_flags = SA_SIGINFO | SA_ONSTACK;
            sigemptyset(&action.sa_mask);
            sigaction(sig, &action, &previous[sig]);
        }
        enabled.store(true);
    });
}

OopsRecord::OopsRecord(std::uintptr_t base, std::uint64_t size, const std::string& module, const std::string& file,
                       std::span<const std::byte> bytes) {
    if (!enabled.load()) return;
    auto* e = new Entry;
    e->base = base;
    e->size = size;
    e->module = module;
    e->file = file;
    e->functions = functions_of(bytes);
    for (auto& slot : slots) {
        Entry* empty = nullptr;
        if (slot.compare_exchange_strong(empty, e)) {
            entry_ = e;
            return;
        }
    }
    delete e;  // the table is full: this module goes unnamed
}

void OopsRecord::set_state(OopsState state) {
    if (entry_ != nullptr) entry_->state.store(static_cast<int>(state));
}

OopsRecord::~OopsRecord() {
    if (entry_ == nullptr) return;
    for (auto& slot : slots) {
        Entry* mine = entry_;
        if (slot.compare_exchange_strong(mine, nullptr)) break;
    }
    // A handler that started before the slot was cleared may still read it.
    while (readers.load() != 0) sched_yield();
    delete entry_;
}

}  // namespace umod::loader
