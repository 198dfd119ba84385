// umod — views of a registry snapshot: the texts and graphs people read.
// Each takes a RegistrySnapshot (Registry::snapshot()) and returns text; none
// touches the registry.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <umod/metadata.h>
#include <umod/umod.h>

namespace umod::views {

// /proc/modules, in the kernel's exact layout:
//   "name size refcount users-or-dash state 0xaddress[ (taints)]\n"
std::string proc_modules(const RegistrySnapshot& snapshot);

// kmod's lsmod: "Module                  Size  Used by" and one line per module;
// users that hold only dynamic references (modules, named holders such as
// "ui", "(anonymous)") follow as " +dynamic ext4,ui".
std::string lsmod(const RegistrySnapshot& snapshot);

// lsmod as JSON: {"modules": [{name, size, refcount, used_by, dynamic_users, state}]}.
std::string lsmod_json(const RegistrySnapshot& snapshot);

// One loaded module, as modinfo prints a file ("key:           value"): state,
// size, address, licence, dependencies, users, exports and holders; and the
// same as JSON. Empty strings when the module is not in the snapshot.
std::string modinfo(const RegistrySnapshot& snapshot, std::string_view module);
std::string modinfo_json(const RegistrySnapshot& snapshot, std::string_view module);
// The same followed by the module's parameter values (module_parameters in
// <umod/metadata.h>): one "parameter:      NAME=TEXT (TYPE)" line each, as
// /sys/module/M/parameters shows them; in JSON a "parameters" array of
// {name, type, value, text, description}, value typed (null for a null charp).
std::string modinfo(const RegistrySnapshot& snapshot, std::string_view module,
                    std::span<const ParameterValue> parameters);
std::string modinfo_json(const RegistrySnapshot& snapshot, std::string_view module,
                         std::span<const ParameterValue> parameters);

// Who holds `module`, with static and dynamic counts and per-symbol counts.
// An empty string when the module is not in the snapshot.
std::string holders(const RegistrySnapshot& snapshot, std::string_view module);

// The whole graph as JSON (modules, exports, uses with counts, holders).
std::string json(const RegistrySnapshot& snapshot);

// Reports as JSON objects, for tools and logs: an error with its code,
// message and, for an unmatched put or a refused unload, its structured
// payload with the recorded stacks; a leak with its acquisition groups.
std::string json(const Error& error);
std::string json(const Leak& leak);
// Registry::holders(module) as JSON, with each holder's acquisition stacks
// at the stacks level.
std::string json(std::string_view module, const std::vector<HolderCounts>& holders);

// The graph in Graphviz DOT: solid edges for static uses, dashed for dynamic
// references, labelled with counts.
std::string dot(const RegistrySnapshot& snapshot);

}  // namespace umod::views
