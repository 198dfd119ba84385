// The one wording of every registry error and report.
#include <umod/errors.h>
#include <umod/umod.h>

#include <fmt/format.h>

#include "core/events.h"
#include "elf/umod_module.h"

namespace umod {

namespace {

// A symbol as a person reads it: C++ link names demangled (elf::readable_name).
std::string readable(std::string_view symbol) { return elf::readable_name(symbol); }

std::string symbol_counts(const std::vector<HolderCounts::Symbol>& symbols) {
    std::string out;
    for (const auto& s : symbols) {
        if (!out.empty()) out += ", ";
        out += fmt::format("{} x{}", readable(s.name), s.count);
    }
    return out;
}

// "\n<indent><headline> <frame 0>" and one line per outer frame.
void append_stack(std::string& out, std::string_view indent, std::string_view headline, const StackTrace& stack) {
    out += fmt::format("\n{}{} ", indent, headline);
    if (stack.empty()) {
        out += "(no stack recorded)";
        return;
    }
    out += describe_frame(stack.front());
    for (std::size_t i = 1; i < stack.size(); ++i) out += fmt::format("\n{}    {}", indent, describe_frame(stack[i]));
}

std::string_view base_name(std::string_view path) {
    std::size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string describe_frame(const StackFrame& frame) {
    std::string out;
    if (frame.object.empty())
        out = fmt::format("{:#x}", frame.address);
    else if (frame.function.empty())
        out = fmt::format("{}+{:#x}", frame.object, frame.offset);
    else
        out = fmt::format("{}: {}+{:#x}", frame.object, frame.function, frame.offset);
    if (!frame.file.empty()) out += fmt::format(" ({}:{})", base_name(frame.file), frame.line);
    return out;
}

std::string describe_acquisitions(const HolderCounts& holder, std::string_view provider) {
    std::string out;
    for (const StackGroup& group : holder.acquired) {
        std::string headline = fmt::format("{} reference(s) to {}:{} held by {}, acquired", group.count, provider,
                                           readable(group.symbol), holder.user);
        if (group.stack.empty())
            out += fmt::format("\n  {} while stacks were not recorded", headline);
        else
            append_stack(out, "  ", headline + " at", group.stack);
    }
    return out;
}

std::string describe_holder(const HolderCounts& h) {
    std::string out = fmt::format("{} {} (static {}, dynamic {}", h.kind, h.user, h.static_uses, h.dynamic);
    if (!h.symbols.empty()) out += ": " + symbol_counts(h.symbols);
    return out + ")";
}

std::string describe_leak(const Leak& leak) {
    return fmt::format("leak: {} still held {} reference(s) to {} ({}), released", leak.user,
                       leak.references.dynamic, leak.provider, symbol_counts(leak.references.symbols)) +
           describe_acquisitions(leak.references, leak.provider);
}

void describe_error(const ModuleExists& e, std::string& out) {
    out += fmt::format("module {} is already loaded", e.module);
}

void describe_error(const NoSuchModule& e, std::string& out) {
    out += fmt::format("module {} is not loaded", e.module);
}

void describe_error(const UnknownSymbols& e, std::string& out) {
    out += fmt::format("{}: unknown symbol{}", e.module, e.symbols.size() == 1 ? "" : "s");
    for (std::size_t i = 0; i < e.symbols.size(); ++i) {
        out += (i ? ", " : " ") + readable(e.symbols[i].symbol);
        if (!e.symbols[i].defined_unexported_in.empty())
            out += fmt::format(" (defined but not exported by {})", e.symbols[i].defined_unexported_in);
    }
}

void describe_error(const UnknownExport& e, std::string& out) {
    out += fmt::format("no module exports {}", readable(e.symbol));
}

void describe_error(const GplOnlySymbol& e, std::string& out) {
    out += fmt::format("{}: GPL-only symbol {} of {} refused to a user with license '{}'", e.user,
                       readable(e.symbol), e.provider, e.license);
}

void describe_error(const NamespaceNotImported& e, std::string& out) {
    out += fmt::format("{}: symbol {} of {} is in namespace {}, which {} does not import "
                       "(MODULE_IMPORT_NS({}))",
                       e.module, readable(e.symbol), e.provider, e.ns, e.module, e.ns);
}

void describe_error(const DuplicateExport& e, std::string& out) {
    out += fmt::format("{}: exports {}, already exported by {}", e.module, readable(e.symbol), e.existing_owner);
}

void describe_error(const ProviderNotReady& e, std::string& out) {
    out += fmt::format("{}: {} of {} is not available: {} is {}", e.user, readable(e.symbol), e.provider, e.provider,
                       e.state);
}

void describe_error(const TypeMismatch& e, std::string& out) {
    out += fmt::format("{} of {} has type {}, not {}", readable(e.symbol), e.provider, e.recorded, e.requested);
}

void describe_error(const InitFailed& e, std::string& out) {
    out += fmt::format("{}: init failed with error {}", e.module, e.code);
}

void describe_error(const MapFailed& e, std::string& out) {
    out += fmt::format("{}: cannot map: {}", e.module, e.reason);
}

void describe_error(const ModuleInUse& e, std::string& out) {
    out += fmt::format("{} is in use{}", e.module, e.waited ? " (after waiting)" : "");
    for (std::size_t i = 0; i < e.holders.size(); ++i)
        out += (i ? "; " : ": ") + describe_holder(e.holders[i]);
    for (const HolderCounts& holder : e.holders) out += describe_acquisitions(holder, e.module);
}

void describe_error(const ModuleBusy& e, std::string& out) {
    out += fmt::format("{} cannot be unloaded: {}", e.module, e.reason);
}

void describe_error(const UnmatchedPut& e, std::string& out) {
    if (e.provider.empty())
        out += fmt::format("unmatched put: {} put {}, which no module exports", e.user, readable(e.symbol));
    else
        out += fmt::format("unmatched put: {} put {} of {} without a matching get", e.user, readable(e.symbol),
                           e.provider);
    if (e.put_stack.empty()) return;
    append_stack(out, "  ", "put at", e.put_stack);
    for (const auto& release : e.recent_releases) {
        append_stack(out, "  ", "released before at", release.released);
        append_stack(out, "    ", "acquired at", release.acquired);
    }
}

void describe_error(const NotAnExportAddress& e, std::string& out) {
    out += fmt::format("{} is not the address of an export", fmt::ptr(e.address));
}

namespace core {

std::string describe_suspicious_init(std::string_view module, int value) {
    return fmt::format("{}: init suspiciously returned {}, it should follow 0/-E convention; loading it anyway",
                       module, value);
}

}  // namespace core

}  // namespace umod
