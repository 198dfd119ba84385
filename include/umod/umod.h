// umod — the host API: a registry of modules that knows every module, every
// export and every use, as the Linux kernel's module loader does, completed
// with the 2007 RFC "Add ability to keep track of callers of symbol_(get|put)":
// dynamic references are attributed to the user that took them and counted per
// (user, provider) pair and per symbol, apart from the static use that linking
// creates.
//
// The registry does not care how module code gets into memory. A module is
// described by a ModuleImage (data: name, exports, imports, modinfo, init and
// exit). A link-only image carries its addresses and callbacks directly; a
// loader plugs in through ModuleBackend (see below), which maps the code only
// after every import has been resolved and every policy check has passed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <umod/errors.h>
#include <umod/expected.h>

namespace umod {

namespace core {
class ObserverHub;
}

class Module;  // identity object: owned by the registry, never moves
class Registry;
class User;    // a module, a named holder, or (nullptr) anonymous
struct ReloadPlan;

enum class ModuleState : std::uint8_t {
    Unformed,  // name reserved, linking
    Coming,    // exports visible, init running
    Live,
    Going,     // exit running
    Gone,      // unloaded: the handle is defunct
};
std::string_view to_string(ModuleState state);

enum class ExportLicense : std::uint8_t { Any, GplOnly };
enum class UserKind : std::uint8_t { Module, Holder, Anonymous };
enum class UnmatchedPutPolicy : std::uint8_t { Report, Abort };
enum class UnloadMode : std::uint8_t { Normal, Force };

// How much the registry records about references. Every level keeps the
// counts unloading needs; switching levels at run time loses no count.
enum class TrackLevel : std::uint8_t {
    Off,     // per (user, provider) pair only: a put matches any reference of the pair
    Counts,  // per user, per provider, per symbol (the default)
    Stacks,  // and each acquisition and release records its call stack
};
std::string_view to_string(TrackLevel level);
// "off", "counts" or "stacks"; EINVAL naming the text otherwise.
Expected<TrackLevel> parse_track_level(std::string_view text);

// True for the licence strings the kernel calls GPL-compatible ("GPL",
// "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL",
// "Dual MPL/GPL").
bool license_is_gpl_compatible(std::string_view license);

// One exported symbol.
struct ExportSpec {
    std::string name;    // link name (C name or mangled C++ name): the lookup key
    std::string alias;   // optional second key, e.g. the C++ qualified name
    const void* address = nullptr;  // may stay null until a backend maps the module
    ExportLicense license = ExportLicense::Any;
    std::string ns;      // symbol namespace; empty for none
    std::string type;    // type recorded for typed lookups; empty when untyped
};

// `.modinfo` as ordered key/value pairs. The registry reads `license` and
// every `import_ns`.
using ModInfo = std::vector<std::pair<std::string, std::string>>;

// What a module's import resolved to.
struct ResolvedImport {
    std::string_view name;
    const void* address = nullptr;
    std::string_view provider;  // provider module name; "(core)" for the host's table
};

// What a backend reports once it has mapped a module.
struct MappedModule {
    std::vector<const void*> export_addresses;  // one per ModuleImage::exports, same order
    std::function<int()> init;                  // returns 0 or a negative errno
    std::function<void()> exit;                 // empty: the module cannot be unloaded
    std::size_t size = 0;
    std::uintptr_t base = 0;
    std::vector<std::string> warnings;          // load-time hazards, emitted as events
};

// What a backend reports after unmapping.
struct UnmapReport {
    bool unmapped = true;              // the code is really gone
    std::vector<std::string> reasons;  // why not, when it is not
    std::string exit_error;            // exit threw (caught; the unload went on): "m: exit threw T: what"
};

// The seam for loaders. The registry calls map() once, after every import is
// resolved and every policy check passed, with no registry lock held and before
// any of the module's code has run; `self` is the module's identity as a user
// (what THIS_MODULE must stand for). On failure nothing may stay mapped. After
// exit ran, or after a failed init, the registry calls unmap() exactly once.
class ModuleBackend {
public:
    virtual ~ModuleBackend() = default;
    virtual Expected<MappedModule> map(std::span<const ResolvedImport> imports, User* self) = 0;
    virtual UnmapReport unmap() = 0;
    // A token that keeps the mapped code in memory while it lives, even past
    // unmap() (which then reports it still mapped, saying why); the code goes
    // with the last token. Null when the backend cannot (the default) or the
    // module is no longer mapped. Called while the module is live, from any
    // thread, without registry lock.
    virtual std::shared_ptr<void> keep_mapped() { return nullptr; }
};

struct ModuleImage {
    std::string name;
    std::vector<ExportSpec> exports;
    std::vector<std::string> imports;  // symbol names (link names)
    ModInfo modinfo;
    // Link-only images: callbacks and size given here. Ignored when a backend
    // supplies them from map().
    std::function<int()> init;  // returns 0 or a negative errno
    std::function<void()> exit;
    std::size_t size = 0;
    std::unique_ptr<ModuleBackend> backend;  // null for link-only images
    std::string taints;                      // the module's taint letters ("E": loaded without a valid signature)
    std::vector<std::string> warnings;       // emitted as Warning events once the name is reserved
};

// A client's handle on a module: stays valid after the module is unloaded (the
// module is then defunct, state Gone), never dangles, and may outlive the
// registry (a defunct module's name and state stay readable).
class ModuleHandle {
public:
    ModuleHandle() = default;
    explicit ModuleHandle(std::shared_ptr<Module> module) : module_(std::move(module)) {}

    explicit operator bool() const { return module_ != nullptr; }
    Module* get() const { return module_.get(); }
    // The module as a user, for symbol_get and friends.
    User* user() const;
    std::string_view name() const;
    ModuleState state() const;

private:
    std::shared_ptr<Module> module_;
};

// The name of a user as views print it ("(anonymous)" for nullptr).
std::string_view user_name(const User* user);
UserKind user_kind(const User* user);

// Events, delivered synchronously on the thread that caused them, in order,
// with no registry lock held: an observer may call the registry (find,
// snapshot, subscribe, unsubscribe...). Get and Put events are delivered
// only to observers that ask for them (they are on the hot path).
enum class EventKind : std::uint8_t {
    Loaded, Unloaded, Get, Put, Leak, UnmatchedPut, Warning,
    ReloadStarted, ReloadCommitted, ReloadRolledBack,  // Registry::reload, with `plan`
};
std::string_view to_string(EventKind kind);

struct Event {
    EventKind kind;
    std::string_view module;    // the module the event is about (Loaded, Unloaded, Warning)
    std::string_view user;      // Get/Put/Leak/UnmatchedPut: who
    std::string_view provider;  // Get/Put/Leak/UnmatchedPut: whose
    std::string_view symbol;    // Get/Put/UnmatchedPut; Leak: empty (see `holder`)
    const HolderCounts* leaked = nullptr;  // Leak: the references released
    const Error* error = nullptr;          // UnmatchedPut: the error returned
    std::string_view text;      // one-line report, ready to print
    const ReloadPlan* plan = nullptr;     // ReloadStarted/Committed/RolledBack: the reload's plan
};

// Subscribed with Registry::subscribe. Destroying an observer ends its
// subscriptions (waiting for a delivery to it on another thread to return),
// and a registry's teardown ends every subscription to it, so an observer
// and its registry may be destroyed in either order. A class deriving from
// Observer that another thread may be delivering to must unsubscribe before
// its own members go. A copy is not subscribed.
class Observer {
public:
    Observer() = default;
    Observer(const Observer&) noexcept {}
    Observer& operator=(const Observer&) noexcept { return *this; }
    virtual ~Observer();
    virtual void on_event(const Event& event) = 0;

private:
    friend class core::ObserverHub;
    std::vector<std::weak_ptr<void>> subscriptions_;  // the hubs it is subscribed to
};

enum class ObserveGetPut : std::uint8_t { No, Yes };

struct UnloadOptions {
    UnloadMode mode = UnloadMode::Normal;
    // Zero: refuse at once while used. Otherwise wait that long for the
    // references to drain (static dependents never drain: refused at once).
    std::chrono::milliseconds wait{0};
};

struct Leak {
    std::string user;
    std::string provider;
    HolderCounts references;  // at the stacks level, with where they were taken
};

// Reports, worded once: "module m (static 1, dynamic 2: f x2)" and
// "leak: u still held 2 reference(s) to p (f x2), released", the latter
// followed at the stacks level by one block per acquisition stack:
// "  2 reference(s) to p:f held by u, acquired at m.so: grab+0x1c" and the
// outer frames, one per line.
std::string describe_holder(const HolderCounts& holder);
std::string describe_leak(const Leak& leak);
// The acquisition blocks of `holder` on `provider` (empty below the stacks level).
std::string describe_acquisitions(const HolderCounts& holder, std::string_view provider);

struct UnloadReport {
    std::vector<Leak> leaks;               // references this module still held, released
    std::vector<HolderCounts> forced;      // references others held on it (force only)
    UnmapReport unmap;
};

// A consistent copy of the registry's state, taken under its lock: what every
// view prints from (see umod/views.h).
struct ExportSnapshot {
    std::string name;
    ExportLicense license;
    std::string ns;
};
struct ModuleSnapshot {
    std::string name;
    ModuleState state;
    std::size_t size = 0;
    std::uintptr_t address = 0;
    long refcount = 0;                     // references beyond the base; -1 while unloading
    bool permanent = false;                // init without exit
    std::string taints;                    // e.g. "F" after a forced unload of a user
    std::string license;
    std::vector<std::string> static_users; // modules that link to it, newest first
    std::vector<std::string> depends;      // modules it links to
    std::vector<ExportSnapshot> exports;
    std::vector<HolderCounts> holders;     // every user with its counts
};
struct RegistrySnapshot {
    std::vector<ModuleSnapshot> modules;   // newest first, as /proc/modules lists them
    std::vector<std::string> holders;      // named non-module holders
    std::string taints;                    // "F" once a module was force-unloaded
};

// Who may change a live host through its control endpoint (<umod/control.h>).
enum class ControlAccess : std::uint8_t {
    Off,     // no endpoint, no socket
    Read,    // the host's uid and root may read: lsmod, holders, graph, modinfo, monitor
    Manage,  // and change: insmod, rmmod, track
};

// The control endpoint: a Unix socket named after the pid in a directory only
// the owner can enter ($XDG_RUNTIME_DIR/umod, /run/umod for root), served by
// its own thread; removed when the registry is destroyed.
struct ControlOptions {
    // Unset: the environment's UMOD_CONTROL (0 or empty: Off; 1 or read:
    // Read; manage: Manage), else Off.
    std::optional<ControlAccess> access;
    // Empty: $UMOD_CONTROL_DIR, else the default above.
    std::string directory;
    std::size_t max_connections = 16;
    // A client that stalls mid-request or does not read its answer for this
    // long is disconnected; an idle one after idle_timeout.
    std::chrono::milliseconds io_timeout{5000};
    std::chrono::milliseconds idle_timeout{60000};
};

// Module signatures (the kernel's CONFIG_MODULE_SIG, docs/signing.md).
enum class SignaturePolicy : std::uint8_t {
    Off,      // not checked (a kernel without CONFIG_MODULE_SIG)
    Warn,     // unsigned, unknown key or unsupported crypto: loaded, with a Warning event and taint E;
              // a signature that does not verify is refused (EKEYREJECTED; EBADMSG when malformed)
    Enforce,  // module.sig_enforce: only a module that verifies loads; else EKEYREJECTED, nothing mapped
};
struct SignatureOptions {
    // The trusted certificates: a file (PEM, or one DER) or a directory of
    // them. Empty: $UMOD_KEYRING.
    std::string keyring;
    // Unset: Enforce if $UMOD_SIG_ENFORCE is 1, else Warn when there is a
    // keyring, else Off.
    std::optional<SignaturePolicy> policy;
};

struct RegistryOptions {
    // How long a load waits for a provider that is still initialising (the
    // kernel waits 30 s) before failing with EBUSY.
    std::chrono::milliseconds provider_wait{5000};
    UnmatchedPutPolicy unmatched_put = UnmatchedPutPolicy::Report;
    // Unset: the environment's UMOD_TRACK (off, counts or stacks), else Counts.
    std::optional<TrackLevel> track;
    // At the stacks level: how many of each pair's releases are remembered
    // for the reports of a later unmatched put (the kernel's ref_tracker
    // quarantine).
    std::size_t quarantine = 16;
    // The live-host endpoint (off unless asked for, here or by UMOD_CONTROL).
    ControlOptions control;
    // Which module files load_module_file accepts (<umod/loader.h>).
    SignatureOptions signatures;
    // The crash reporter (also UMOD_OOPS=1): a fatal signal in module code
    // prints one line naming the module, function and state, then the host's
    // handler or the default action runs (see the loader's docs/design.md).
    bool oops = false;
};

// One reference as the RAII handles of <umod/ref.h> hold it: exactly the
// counter it raised, so that a copy raises it again and a destructor lowers
// it without a lookup. Obtained from Registry::acquire*. The counter and the
// `recording` switch belong to the (user, provider) pair, which outlives the
// registry while handles on it remain: copying or releasing a handle after
// its registry is destroyed is safe and changes nothing anyone reads.
struct HeldReference {
    void* address = nullptr;
    std::atomic<std::uint64_t>* counter = nullptr;  // null: nothing counted (a core export)
    const std::atomic<bool>* recording = nullptr;   // the pair's copy of the registry's "record each reference" switch
    Registry* registry = nullptr;
    void* pair = nullptr;                           // the (user, provider) pair; opaque
    std::uint32_t slot = 0;                         // the counter's
    std::uint32_t symbol_slot = 0;                  // the symbol's own counter (may differ at the off level)
};

// A call site's memory of its last lookup, for <umod/module.h>'s symbol_get
// and symbol_put (layout of its struct umod_symbol_cache). Zero-initialised;
// valid only while the registry's generation has not moved.
struct SymbolCache {
    void* registry;
    unsigned long generation;
    void* entry;
    void* use;
    int busy;
};

// ---- reloading (docs/reloading.md) ----------------------------------------

enum class ReloadMode : std::uint8_t {
    Normal,  // an old image that cannot be unmapped (NODELETE, TLS) refuses the reload
    Force,   // replaced anyway; the report says which image stayed mapped and why
};
struct ReloadOptions {
    ReloadMode mode = ReloadMode::Normal;
    // Zero: refuse at once while anything outside the reloaded set holds a
    // reference on a module of it. Otherwise wait that long for them to drain.
    std::chrono::milliseconds wait{0};
};

// A module's state handed from its old version to its new one
// (MODULE_STATE in <umod/module.h>).
struct ReloadStateHandOver {
    std::string module;
    std::string id;
    std::uint64_t from_version = 0;
    std::uint64_t to_version = 0;
};

// What a reload will do, decided from the files and the registry before any
// new code runs (Registry::plan_reload).
struct ReloadPlan {
    std::string module;                    // the module replaced by `file`
    std::string file;
    std::vector<std::string> unload_order; // top-down: dependents first, `module` last
    std::vector<std::string> load_order;   // bottom-up: `module` (the new file) first, dependents from their kept bytes
    std::vector<ReloadStateHandOver> states;
    std::vector<std::string> stays_mapped; // forced: "m: reason" for each old image that will stay mapped
};
// The plan as `umod run`'s `reload --dry-run` prints it, one line per step.
std::string describe_reload_plan(const ReloadPlan& plan);

struct ReloadReport {
    ReloadPlan plan;
    struct Replaced {
        std::string module;
        UnmapReport unmap;  // the old image's: proved unmapped, or why it stayed
    };
    std::vector<Replaced> replaced;  // in unload order
    std::vector<Leak> leaks;         // references the old modules still held, released
};

// A reload refused at plan time, with nothing unloaded: every blocker, each
// naming what it is about. The error's code is the first blocker's:
// EWOULDBLOCK (references held from outside the set), ENOENT (an export a
// dependent imports is gone), EPERM/EINVAL (licence, namespace), EBUSY (an old
// image cannot be unmapped), EINVAL (a state the new file cannot take).
struct ReloadBlocker {
    int code = 0;
    std::string text;
};
struct ReloadRefused {
    std::string module;
    std::vector<ReloadBlocker> blockers;
};
// A reload that failed once started, and was rolled back: `step` names what
// failed ("load m (new file)", "restore state of m"...), `cause` why; the old
// set was loaded again from its kept bytes. `rollback` lists what the
// rollback itself could not restore (empty: everything is as before).
struct ReloadFailed {
    std::string module;
    std::string step;
    std::string cause;
    std::vector<std::string> rollback;
};
void describe_error(const ReloadRefused& e, std::string& out);
void describe_error(const ReloadFailed& e, std::string& out);

class Registry {
public:
    explicit Registry(RegistryOptions options = {});
    // The options it was made with.
    const RegistryOptions& options() const;
    // Unloads every module still loaded, users before providers, reporting
    // leaks through the observers.
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // Adds an export of the host itself (the kernel's vmlinux table). Imports
    // resolve against module exports first, then this table. ENOEXEC if the
    // name is exported already.
    Status add_core_export(ExportSpec spec);

    // Loads a module: reserves its name (EEXIST), resolves every import
    // (ENOENT naming each missing symbol; EPERM for a GPL-only export to a
    // non-GPL module; EINVAL for a namespace not imported; EBUSY after waiting
    // for a provider still initialising), refuses duplicate exports (ENOEXEC),
    // takes one static use per distinct provider, maps it (backend), runs init
    // outside any lock (its error returned). On any failure the registry is
    // exactly as before.
    Expected<ModuleHandle> load(ModuleImage image);

    // Unloads a module: ENOENT unknown; EBUSY not LIVE, or permanent unless
    // forced; EWOULDBLOCK while static dependents exist (even forced) or while
    // references are held (unless forced or, with a wait, until they drain),
    // listing every holder. Runs exit outside any lock, drops the module's
    // static uses, reports and releases its leftover dynamic references, and
    // unmaps it.
    Expected<UnloadReport> unload(std::string_view name, UnloadOptions options = {});

    ModuleHandle find(std::string_view name) const;
    // True if a module (or the host's core table) exports `name`. Lock-free.
    bool exports(std::string_view name) const;
    std::vector<ModuleHandle> modules() const;  // newest first
    // The loaded module whose mapping (its code and data, as the backend
    // reported them) contains `address`; an empty handle for an address in no
    // module (the host, the heap, a link-only module, which has no mapping).
    ModuleHandle module_of(const void* address) const;
    // Keeps `module`'s code mapped while the returned token lives, even after
    // a forced unload, the registry's teardown or the registry's destruction
    // (see ModuleBackend::keep_mapped): what umod::module_shared holds so that
    // an object made by module code can always be destroyed. Null unless the
    // module is live and its backend can keep it mapped.
    std::shared_ptr<void> keep_mapped(const ModuleHandle& module);

    // A named non-module holder ("ui", "scheduler"): created on first use,
    // valid for the registry's lifetime.
    User* holder(std::string_view name);

    // Takes a reference to `name` for `user` (nullptr: anonymous) and returns
    // its address. The first reference of a (user, provider) pair takes one
    // reference on the provider; later ones raise the pair's dynamic count.
    // ENOENT unknown; EBUSY provider loading or unloading; EPERM GPL-only to a
    // non-GPL module. Lock-free for an existing pair.
    Expected<void*> symbol_get(std::string_view name, User* user, const void* caller_frame = nullptr);
    // symbol_get that first has a provider loaded when no module exports
    // `name` (the kernel's symbol_request, which runs request_module
    // "symbol:NAME"): it calls the request handler, outside any lock, then
    // gets. ENOENT as symbol_get's when there is no handler or it loads none.
    Expected<void*> symbol_request(std::string_view name, User* user, const void* caller_frame = nullptr);
    // What symbol_request calls for a symbol nobody exports; it returns once
    // it has loaded a provider, or failed. One handler per registry; an empty
    // function removes it. See ModuleTree in <umod/loader.h>.
    using RequestHandler = std::function<Status(std::string_view symbol)>;
    void set_request_handler(RequestHandler handler);

    // As symbol_get, and EINVAL unless the export recorded type `type`.
    Expected<void*> symbol_get_typed(std::string_view name, std::string_view type, User* user, const void* caller_frame = nullptr);
    // Drops one reference taken by symbol_get. An unmatched put changes nothing
    // and is reported (UnmatchedPut; policy Abort aborts).
    Status symbol_put(std::string_view name, User* user, const void* caller_frame = nullptr);
    // As symbol_put, finding the symbol by its address.
    Status symbol_put_addr(const void* address, User* user, const void* caller_frame = nullptr);

    // symbol_get / symbol_put for a call site in a module, remembering the
    // lookup in `cache`. Same results and reports as the plain calls; nullptr
    // or false on failure.
    void* symbol_get_cached(std::string_view name, SymbolCache& cache, User* user, const void* caller_frame = nullptr);
    bool symbol_put_cached(std::string_view name, SymbolCache& cache, User* user, const void* caller_frame = nullptr);

    // Module references not tied to a symbol (counted as "(module)").
    Status try_module_get(Module* provider, User* user, const void* caller_frame = nullptr);
    Status module_put(Module* provider, User* user, const void* caller_frame = nullptr);

    // The calls above and the acquire* calls below take an optional
    // `caller_frame`: where a stack recorded at the stacks level starts (the
    // __builtin_frame_address(0) of the function whose caller is the first
    // frame to record). Null: the caller of the registry function.

    // For RAII handles: a reference as symbol_get / try_module_get take it,
    // returned with the counter it raised.
    Expected<HeldReference> acquire(std::string_view name, User* user, const void* caller_frame = nullptr);
    Expected<HeldReference> acquire_typed(std::string_view name, std::string_view type, User* user,
                                          const void* caller_frame = nullptr);
    Expected<HeldReference> acquire_module(Module* provider, User* user, const void* caller_frame = nullptr);
    // One more reference on `held`'s counter (a copy), and one less. Never
    // fail: a held reference keeps its provider loaded. After a forced unload
    // of the provider they change nothing that anyone reads.
    __attribute__((always_inline)) static void duplicate(const HeldReference& held) {
        if (held.counter == nullptr) return;
        if (!held.recording->load(std::memory_order_relaxed))
            held.counter->fetch_add(1, std::memory_order_relaxed);
        else
            duplicate_recorded(held);
    }
    __attribute__((always_inline)) static void release(const HeldReference& held) {
        if (held.counter == nullptr) return;
        if (!held.recording->load(std::memory_order_relaxed)) {
            std::uint64_t count = held.counter->load(std::memory_order_relaxed);
            while (count != 0)
                if (held.counter->compare_exchange_weak(count, count - 1, std::memory_order_release,
                                                        std::memory_order_relaxed))
                    return;
        }
        // Recording, or a plain put at another level took this counter's
        // reference: the pair's other counter has it.
        release_recorded(held);
    }
    // Their slow paths (stacks level, or Get/Put observers); the recorded
    // stack starts at their caller.
    static void duplicate_recorded(const HeldReference& held);
    static void release_recorded(const HeldReference& held);

    // The tracking level; changing it keeps every count (references taken at
    // one level are released correctly at any other). Stacks recorded so far
    // are dropped when leaving the stacks level.
    void set_tracking(TrackLevel level);
    TrackLevel tracking() const;

    // Every user of `module` with its counts. ENOENT unknown.
    Expected<std::vector<HolderCounts>> holders(std::string_view module) const;
    RegistrySnapshot snapshot() const;

    // Delivers events to `observer` until it is unsubscribed or destroyed, or
    // the registry is (see Observer). Unsubscribing returns once no other
    // thread is delivering to it; an observer may unsubscribe from its callback.
    void subscribe(Observer& observer, ObserveGetPut get_put = ObserveGetPut::No);
    void unsubscribe(Observer& observer);

    // Replaces module `name` by the module file `new_file` (with `params`),
    // together with its static dependents, transitively: they are unloaded
    // top-down, the new file loaded, and the dependents loaded again
    // bottom-up from their kept bytes with their current parameters, so that
    // they bind to the new version. States declared with MODULE_STATE are
    // saved before each old exit and restored before each new init. Refused
    // before anything is unloaded (ReloadRefused; ENOENT for an unknown
    // module, EBUSY for one not live) when plan_reload finds a blocker. If a
    // step fails once started, everything new is unloaded and the old set is
    // loaded again from its kept bytes, states restored (ReloadFailed, with
    // the failed step's code). Needs the module loader (libumod): ENOSYS
    // without it. Runs module code, so no registry lock may be held.
    Expected<ReloadReport> reload(std::string_view name, const std::string& new_file,
                                  std::span<const std::string> params = {}, ReloadOptions options = {});
    // What reload would do, or why it is refused; changes nothing, runs no
    // module code (it reads the new file, and waits as options.wait says).
    Expected<ReloadPlan> plan_reload(std::string_view name, const std::string& new_file,
                                     std::span<const std::string> params = {}, ReloadOptions options = {});

    struct Impl;

private:
    void remember(SymbolCache& cache, std::string_view name, User& who);
    std::unique_ptr<Impl> impl_;
};

}  // namespace umod
