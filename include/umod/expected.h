// umod — the one error model.
//
// Every fallible operation in umod returns `Expected<T>` (or `Status`, which is
// `Expected<void>`): either a value, or an `Error` carrying an errno-compatible
// code, a one-line message and an optional structured payload (`ErrorDetail`).
// The message is always produced by the payload's `describe()`, so one failure
// kind has one wording everywhere it is printed. No exceptions cross the
// public API.
#pragma once

#include <cassert>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace umod {

// A structured error payload: a plain struct carrying the data a caller may
// act on (missing symbols, holders, ...), with a free function found by ADL,
//     void describe_error(const Payload&, std::string& out);
// that appends its one-line description (no trailing newline).
class ErrorDetail {
public:
    virtual ~ErrorDetail() = default;
    virtual void describe(std::string& out) const = 0;
};

template <class Payload>
class DetailOf final : public ErrorDetail {
public:
    explicit DetailOf(Payload p) : payload(std::move(p)) {}
    void describe(std::string& out) const override { describe_error(payload, out); }
    const Payload payload;
};

class [[nodiscard]] Error {
public:
    // An error with only a code and a message.
    Error(int code, std::string message) : code_(code), message_(std::move(message)) {}

    // An error whose message is the payload's description.
    template <class Payload>
    static Error with(int code, Payload payload) {
        auto detail = std::make_shared<const DetailOf<Payload>>(std::move(payload));
        std::string message;
        detail->describe(message);
        return Error(code, std::move(message), std::move(detail));
    }

    // errno-compatible code (ENOENT, EWOULDBLOCK, ...), always positive.
    int code() const { return code_; }
    const std::string& message() const { return message_; }

    // The payload if it is of type `Payload`, else nullptr.
    template <class Payload>
    const Payload* detail() const {
        auto* d = dynamic_cast<const DetailOf<Payload>*>(detail_.get());
        return d ? &d->payload : nullptr;
    }

    // Returns a copy whose message is prefixed with `context + ": "`; the code
    // and payload are kept.
    Error context(std::string_view context) const {
        Error e = *this;
        e.message_.insert(0, std::string(context) + ": ");
        return e;
    }

private:
    Error(int code, std::string message, std::shared_ptr<const ErrorDetail> detail)
        : code_(code), message_(std::move(message)), detail_(std::move(detail)) {}

    int code_;
    std::string message_;
    std::shared_ptr<const ErrorDetail> detail_;
};

// A value of type T, or an Error.
template <class T>
class [[nodiscard]] Expected {
public:
    Expected(T value) : storage_(std::in_place_index<0>, std::move(value)) {}
    Expected(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const { return storage_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { assert(has_value()); return std::get<0>(storage_); }
    const T& value() const& { assert(has_value()); return std::get<0>(storage_); }
    T&& value() && { assert(has_value()); return std::get<0>(std::move(storage_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { assert(!has_value()); return std::get<1>(storage_); }

private:
    std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Expected<void> {
public:
    Expected() = default;
    Expected(Error error) : error_(std::make_unique<Error>(std::move(error))) {}
    Expected(const Expected& other)
        : error_(other.error_ ? std::make_unique<Error>(*other.error_) : nullptr) {}
    Expected(Expected&&) noexcept = default;
    Expected& operator=(const Expected& other) {
        error_ = other.error_ ? std::make_unique<Error>(*other.error_) : nullptr;
        return *this;
    }
    Expected& operator=(Expected&&) noexcept = default;

    bool has_value() const { return !error_; }
    explicit operator bool() const { return has_value(); }
    const Error& error() const { assert(error_); return *error_; }

private:
    std::unique_ptr<Error> error_;
};

using Status = Expected<void>;

}  // namespace umod
