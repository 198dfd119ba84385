// umod — the one error model.
//
// Every fallible operation in umod returns `Expected<T>` (or `Status`, which is
// `Expected<void>`): either a value, or an `Error` carrying an errno-compatible
// code, a one-line message and an optional structured payload (`ErrorDetail`).
// The message is always produced by the payload's `describe()`, so one failure
// kind has one wording everywhere it is printed. No exceptions cross the
// public API.
//
// Expected offers what std::expected users reach for: has_value, value,
// operator* and ->, error, value_or, and_then, transform, or_else. Reading the
// value of an error, or the error of a value, is a contract failure at every
// build type: it prints what was misread (and the error's message) and aborts,
// never undefined behaviour nor std::bad_variant_access.
#pragma once

#include <cassert>  // (users of this header have relied on it)
#include <cstdio>
#include <cstdlib>
#include <functional>
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

template <class T>
class Expected;

namespace detail {

// The contract failure of reading what an Expected does not hold.
[[noreturn]] inline void expected_misread(const char* what, const Error* error) {
    if (error != nullptr)
        std::fprintf(stderr, "umod: contract violation: %s of an Expected holding an error: %s\n", what,
                     error->message().c_str());
    else
        std::fprintf(stderr, "umod: contract violation: %s of an Expected holding a value\n", what);
    std::abort();
}

template <class E>
struct IsExpected : std::false_type {};
template <class U>
struct IsExpected<Expected<U>> : std::true_type {};

}  // namespace detail

// A value of type T, or an Error.
template <class T>
class [[nodiscard]] Expected {
public:
    using value_type = T;

    Expected(T value) : storage_(std::in_place_index<0>, std::move(value)) {}
    Expected(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const { return storage_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return *checked_value(); }
    const T& value() const& { return *checked_value(); }
    T&& value() && { return std::move(*checked_value()); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return checked_value(); }
    const T* operator->() const { return checked_value(); }

    const Error& error() const {
        if (const Error* e = std::get_if<1>(&storage_)) return *e;
        detail::expected_misread("error()", nullptr);
    }

    // The value, or `fallback` converted to T.
    template <class U>
    T value_or(U&& fallback) const& {
        return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
    }
    template <class U>
    T value_or(U&& fallback) && {
        return has_value() ? std::move(*this).value() : static_cast<T>(std::forward<U>(fallback));
    }

    // f(value), which returns an Expected<U>; or this error, as an Expected<U>.
    template <class F>
    auto and_then(F&& f) const& {
        using R = std::remove_cvref_t<std::invoke_result_t<F, const T&>>;
        static_assert(detail::IsExpected<R>::value, "and_then: the function must return an Expected");
        return has_value() ? std::invoke(std::forward<F>(f), value()) : R(error());
    }
    template <class F>
    auto and_then(F&& f) && {
        using R = std::remove_cvref_t<std::invoke_result_t<F, T&&>>;
        static_assert(detail::IsExpected<R>::value, "and_then: the function must return an Expected");
        return has_value() ? std::invoke(std::forward<F>(f), std::move(*this).value()) : R(error());
    }

    // Expected<U> holding f(value) (Status when f returns void); or this error.
    template <class F>
    auto transform(F&& f) const& {
        using U = std::remove_cvref_t<std::invoke_result_t<F, const T&>>;
        if (!has_value()) return Expected<U>(error());
        if constexpr (std::is_void_v<U>) {
            std::invoke(std::forward<F>(f), value());
            return Expected<U>();
        } else {
            return Expected<U>(std::invoke(std::forward<F>(f), value()));
        }
    }

    // This value; or f(error), which returns an Expected<T> (a recovery or
    // another error).
    template <class F>
    Expected or_else(F&& f) const& {
        if (has_value()) return *this;
        return std::invoke(std::forward<F>(f), error());
    }
    template <class F>
    Expected or_else(F&& f) && {
        if (has_value()) return std::move(*this);
        return std::invoke(std::forward<F>(f), error());
    }

private:
    T* checked_value() {
        if (T* v = std::get_if<0>(&storage_)) return v;
        detail::expected_misread("value()", std::get_if<1>(&storage_));
    }
    const T* checked_value() const {
        if (const T* v = std::get_if<0>(&storage_)) return v;
        detail::expected_misread("value()", std::get_if<1>(&storage_));
    }

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
    // Asserting success, as std::expected<void>::value(): a contract failure
    // on an error.
    void value() const {
        if (error_) detail::expected_misread("value()", error_.get());
    }
    const Error& error() const {
        if (!error_) detail::expected_misread("error()", nullptr);
        return *error_;
    }

    // f(), which returns an Expected<U>; or this error.
    template <class F>
    auto and_then(F&& f) const {
        using R = std::remove_cvref_t<std::invoke_result_t<F>>;
        static_assert(detail::IsExpected<R>::value, "and_then: the function must return an Expected");
        return has_value() ? std::invoke(std::forward<F>(f)) : R(error());
    }
    // Expected<U> holding f() (Status when f returns void); or this error.
    template <class F>
    auto transform(F&& f) const {
        using U = std::remove_cvref_t<std::invoke_result_t<F>>;
        if (!has_value()) return Expected<U>(error());
        if constexpr (std::is_void_v<U>) {
            std::invoke(std::forward<F>(f));
            return Expected<U>();
        } else {
            return Expected<U>(std::invoke(std::forward<F>(f)));
        }
    }
    // Success; or f(error), which returns a Status.
    template <class F>
    Expected or_else(F&& f) const {
        if (has_value()) return *this;
        return std::invoke(std::forward<F>(f), error());
    }

private:
    std::unique_ptr<Error> error_;
};

using Status = Expected<void>;

}  // namespace umod
