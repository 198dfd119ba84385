#include "loader/parameters.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include <umod/loader.h>

namespace umod::loader {

namespace {

Expected<ParamValue> parse_param(const std::string& module, const elf::UmodModuleInfo& info,
                                 const std::string& assignment) {
    auto eq = assignment.find('=');
    std::string name = assignment.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : assignment.substr(eq + 1);
    auto bad = [&](std::string problem) { return Error::with(EINVAL, BadParameter{module, name, std::move(problem)}); };
    auto it = std::find_if(info.params.begin(), info.params.end(), [&](const auto& p) { return p.name == name; });
    if (it == info.params.end()) return bad("unknown parameter");
    ParamValue v{&*it, value};
    const std::string& type = it->type;
    if (type == "bool") {
        if (eq == std::string::npos || value == "1" || value == "y" || value == "Y" || value == "true")
            v.flag = true;
        else if (value == "0" || value == "n" || value == "N" || value == "false")
            v.flag = false;
        else
            return bad(fmt::format("'{}' is not a bool (y/n/1/0)", value));
        return v;
    }
    if (type == "charp" || type == "string") return v;
    if (value.empty()) return bad(fmt::format("no value for a {}", type));
    errno = 0;
    char* end = nullptr;
    bool is_signed = type == "int" || type == "long" || type == "short";
    if (is_signed) {
        v.signed_value = std::strtoll(value.c_str(), &end, 0);
    } else if (type == "uint" || type == "ulong" || type == "ushort") {
        if (value[0] == '-') return bad(fmt::format("'{}' is not a {}", value, type));
        v.unsigned_value = std::strtoull(value.c_str(), &end, 0);
    } else {
        return bad(fmt::format("type {} is not supported", type));
    }
    if (errno != 0 || end == value.c_str() || *end != '\0') return bad(fmt::format("'{}' is not a {}", value, type));
    bool fits = true;
    if (type == "int") fits = v.signed_value >= INT_MIN && v.signed_value <= INT_MAX;
    if (type == "short") fits = v.signed_value >= SHRT_MIN && v.signed_value <= SHRT_MAX;
    if (type == "uint") fits = v.unsigned_value <= UINT_MAX;
    if (type == "ushort") fits = v.unsigned_value <= USHRT_MAX;
    if (!fits) return bad(fmt::format("{} is out of range for a {}", value, type));
    return v;
}

}  // namespace

Expected<std::vector<ParamValue>> parse_params(const std::string& module, const elf::UmodModuleInfo& info,
                                               std::span<const std::string> assignments) {
    std::vector<ParamValue> values;
    for (const std::string& assignment : assignments) {
        auto v = parse_param(module, info, assignment);
        if (!v) return v.error();
        values.push_back(std::move(*v));
    }
    return values;
}

void apply_param(ParamValue& v, std::uintptr_t base) {
    void* where = reinterpret_cast<void*>(base + v.param->address);
    const std::string& type = v.param->type;
    auto store = [&](auto value) { std::memcpy(where, &value, sizeof(value)); };
    if (type == "bool") store(v.flag);
    else if (type == "charp" || type == "string") store(v.text.data());
    else if (type == "int") store(static_cast<int>(v.signed_value));
    else if (type == "short") store(static_cast<short>(v.signed_value));
    else if (type == "long") store(static_cast<long>(v.signed_value));
    else if (type == "uint") store(static_cast<unsigned>(v.unsigned_value));
    else if (type == "ushort") store(static_cast<unsigned short>(v.unsigned_value));
    else if (type == "ulong") store(static_cast<unsigned long>(v.unsigned_value));
}

}  // namespace umod::loader
