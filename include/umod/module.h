/*
 * umod — the module author's API, spelled as the Linux kernel spells it, so
 * kernel code that uses only these APIs compiles unchanged. Usable from C and
 * C++. A module is an ELF shared object built with -fPIC -shared and
 * $(pkg-config --cflags umod-module) (which hides every symbol that is not
 * exported); its metadata lives in sections the loader reads before any of
 * its code runs:
 *   .modinfo            "key=value\0" strings (the kernel's format)
 *   .umod_exports       one struct umod_export per EXPORT_SYMBOL*
 *   .umod_init/.umod_exit  module_init / module_exit
 *   .umod_params        one struct umod_param per module_param
 *   .umod_this_module   the module's struct module (THIS_MODULE)
 *   .umod_state         its struct umod_state (MODULE_STATE), if any
 * Static constructors run when the loader maps the module, after every import
 * was resolved and checked and before module_init; static destructors run
 * when it is unmapped, after module_exit.
 */
#ifndef UMOD_MODULE_H
#define UMOD_MODULE_H

#ifdef __cplusplus
#if __cplusplus < 201703L
#error "<umod/module.h> needs C++17 or later: compile with -std=c++17 (umod_add_module does)"
#endif
#if __cplusplus >= 202002L
#include <umod/ref.h> /* umod::symbol_ref: C++20, like the host API */
#endif
#include <umod/type_name.h>
extern "C" {
#endif

/* The module's identity: THIS_MODULE is its address. The loader fills it in
 * before init runs; module code only passes it around. */
struct module {
	void *umod_registry;	/* the host's registry */
	void *umod_self;	/* the registry's object for this module */
	const char *name;
};

/* One per module (weak: every translation unit may define it; hidden: each
 * module has its own). */
__attribute__((weak, visibility("hidden"), section(".umod_this_module")))
struct module __this_module = {0, 0, 0};

#define THIS_MODULE (&__this_module)

/* ---- exports ---------------------------------------------------------- */

struct umod_export {
	const void *address;
	const char *name;	/* as written: the C name, or the C++ name in its namespace */
	const char *ns;		/* "" for none */
	const char *type;	/* "" in C; the C++ type of the symbol otherwise */
	unsigned long flags;
};
#define UMOD_EXPORT_GPL_ONLY 1UL

#define __UMOD_CAT2(a, b) a##b
#define __UMOD_CAT(a, b) __UMOD_CAT2(a, b)
#define __UMOD_UNIQUE(prefix) __UMOD_CAT(prefix, __COUNTER__)

#ifdef __cplusplus
#define __UMOD_TYPE_OF(sym) ::umod::type_name<__typeof__(sym)>()
#define __UMOD_ADDRESS_OF(sym) reinterpret_cast<const void *>(&(sym))
#else
#define __UMOD_TYPE_OF(sym) ""
#define __UMOD_ADDRESS_OF(sym) (__extension__(const void *)&(sym))
#endif

/* Makes `sym` visible to the dynamic linker and records it in the export
 * table. Use at the scope that declares `sym`, before or after its definition.
 * GCC takes a visibility attribute on a later declaration; Clang ignores it
 * after the definition (-Wignored-attributes), so the symbol is also marked
 * protected from assembly (the assembler keeps the last visibility given):
 * exported, and bound to the module's own definition like -Bsymbolic. The
 * assembly only reaches functions (Clang writes variables after every
 * function): with Clang, export a variable from a declaration that precedes
 * its definition (see docs/cxx.md). */
#if defined(__clang__)
#define __UMOD_DEFAULT_VISIBILITY(sym)                                             \
	_Pragma("clang diagnostic push")                                           \
	_Pragma("clang diagnostic ignored \"-Wignored-attributes\"")               \
	extern __typeof__(sym) sym __attribute__((visibility("default")));         \
	_Pragma("clang diagnostic pop")                                            \
	__attribute__((used)) static void __UMOD_UNIQUE(__umod_visible_)(void)     \
	{                                                                          \
		__asm__(".protected %c0" : : "s"(__UMOD_ADDRESS_OF(sym)));         \
	}
#else
#define __UMOD_DEFAULT_VISIBILITY(sym) extern __typeof__(sym) sym __attribute__((visibility("default")));
#endif

#define __UMOD_EXPORT(sym, ns, flags)                                              \
	__UMOD_DEFAULT_VISIBILITY(sym)                                             \
	static const struct umod_export __UMOD_UNIQUE(__umod_export_)              \
		__attribute__((used, section(".umod_exports"), aligned(8))) = {    \
			__UMOD_ADDRESS_OF(sym), #sym, ns, __UMOD_TYPE_OF(sym), flags}

#ifdef __cplusplus
/* One overload of a C++ function, chosen by its type, which may contain
 * commas: EXPORT_SYMBOL_TYPED(scale, double(double)). It answers to its link
 * name and, in typed lookups (umod::symbol_get_typed<double(double)>), to its
 * qualified name ("ns::scale"); see docs/cxx.md. */
#if defined(__clang__)
#define __UMOD_TYPED_VISIBILITY(sym, ...)                                          \
	_Pragma("clang diagnostic push")                                           \
	_Pragma("clang diagnostic ignored \"-Wignored-attributes\"")               \
	extern ::umod::detail::identity_t<__VA_ARGS__> sym __attribute__((visibility("default"))); \
	_Pragma("clang diagnostic pop")                                            \
	__attribute__((used)) static void __UMOD_UNIQUE(__umod_visible_)(void)     \
	{                                                                          \
		__asm__(".protected %c0" : : "s"(static_cast<::umod::detail::identity_t<__VA_ARGS__> *>(&sym))); \
	}
#else
#define __UMOD_TYPED_VISIBILITY(sym, ...)                                          \
	extern ::umod::detail::identity_t<__VA_ARGS__> sym __attribute__((visibility("default")));
#endif
#define __UMOD_EXPORT_TYPED(sym, ns, flags, ...)                                   \
	__UMOD_TYPED_VISIBILITY(sym, __VA_ARGS__)                                  \
	static const struct umod_export __UMOD_UNIQUE(__umod_export_)              \
		__attribute__((used, section(".umod_exports"), aligned(8))) = {    \
			reinterpret_cast<const void *>(static_cast<::umod::detail::identity_t<__VA_ARGS__> *>(&sym)), \
			#sym, ns, ::umod::type_name<__VA_ARGS__>(), flags}
#define EXPORT_SYMBOL_TYPED(sym, ...) __UMOD_EXPORT_TYPED(sym, "", 0UL, __VA_ARGS__)
#define EXPORT_SYMBOL_TYPED_GPL(sym, ...) __UMOD_EXPORT_TYPED(sym, "", UMOD_EXPORT_GPL_ONLY, __VA_ARGS__)
#endif

#define EXPORT_SYMBOL(sym) __UMOD_EXPORT(sym, "", 0UL)
#define EXPORT_SYMBOL_GPL(sym) __UMOD_EXPORT(sym, "", UMOD_EXPORT_GPL_ONLY)
#define EXPORT_SYMBOL_NS(sym, ns) __UMOD_EXPORT(sym, #ns, 0UL)
#define EXPORT_SYMBOL_NS_GPL(sym, ns) __UMOD_EXPORT(sym, #ns, UMOD_EXPORT_GPL_ONLY)

/* ---- .modinfo ----------------------------------------------------------- */

#define __MODULE_INFO(tag, info)                                                   \
	static const char __UMOD_UNIQUE(__umod_modinfo_)[]                         \
		__attribute__((used, section(".modinfo"), aligned(1))) = #tag "=" info
#define MODULE_INFO(tag, info) __MODULE_INFO(tag, info)
#define MODULE_LICENSE(_text) __MODULE_INFO(license, _text)
#define MODULE_AUTHOR(_text) __MODULE_INFO(author, _text)
#define MODULE_DESCRIPTION(_text) __MODULE_INFO(description, _text)
#define MODULE_VERSION(_text) __MODULE_INFO(version, _text)
#define MODULE_ALIAS(_text) __MODULE_INFO(alias, _text)
#define MODULE_SOFTDEP(_text) __MODULE_INFO(softdep, _text)
#define MODULE_IMPORT_NS(_ns) __MODULE_INFO(import_ns, #_ns)
#define MODULE_PARM_DESC(_param, _text) __MODULE_INFO(parm, #_param ":" _text)
/* Sets the module's name; by default it is the file name without directory
 * and ".so", dashes read as underscores. */
#define MODULE_NAME(_text) __MODULE_INFO(name, _text)

/* ---- init and exit ------------------------------------------------------ */

typedef int (*umod_initcall_t)(void);
typedef void (*umod_exitcall_t)(void);

#define module_init(fn)                                                            \
	static const umod_initcall_t __umod_initcall                               \
		__attribute__((used, section(".umod_init"), aligned(8))) = fn
#define module_exit(fn)                                                            \
	static const umod_exitcall_t __umod_exitcall                               \
		__attribute__((used, section(".umod_exit"), aligned(8))) = fn

/* ---- parameters: set at load (`insmod m.so count=5`) -------------------- */

struct umod_param {
	const char *name;
	void *address;
	const char *type;	/* bool, int, uint, long, ulong, charp */
};

/* The parameter `_name` (as `insmod m.so _name=...` sets it) stored in the
 * variable `_var`. A charp is a `char *` or, in C++ where a literal is
 * const, a `const char *`: the loader points it at the value's text. */
#define module_param_named(_name, _var, _type, _perm)                              \
	static const struct umod_param __UMOD_UNIQUE(__umod_param_)                \
		__attribute__((used, section(".umod_params"), aligned(8))) = {     \
			#_name, &(_var), #_type};                                 \
	__MODULE_INFO(parmtype, #_name ":" #_type)
#define module_param(_name, _type, _perm) module_param_named(_name, _name, _type, _perm)

/* ---- references, attributed to THIS_MODULE as in the seed's macros ------ */

/* A call site's memory of its last lookup (see umod::SymbolCache). */
struct umod_symbol_cache {
	void *registry;
	unsigned long generation;
	void *entry;
	void *use;
	int busy;
};

void *__umod_symbol_get(const char *symbol, struct module *user);
void *__umod_symbol_get_cached(const char *symbol, unsigned long length, struct umod_symbol_cache *cache,
			       struct module *user);
void __umod_symbol_put_cached(const char *symbol, unsigned long length, struct umod_symbol_cache *cache,
			      struct module *user);
void *__umod_symbol_request(const char *symbol, struct module *user);
void __umod_symbol_put(const char *symbol, struct module *user);
void __umod_symbol_put_addr(const void *address, struct module *user);
int __umod_try_module_get(struct module *provider, struct module *user);
void __umod_module_put(struct module *provider, struct module *user);
void *__umod_symbol_get_typed(const char *symbol, const char *type, struct module *user);

/* The kernel's one-argument macros. A call with more arguments is left as
 * written, so a translation unit that includes this header can still call
 * Registry::symbol_get(name, user) and the like. */
#define __UMOD_PICK5(_1, _2, _3, _4, _5, ...) _5
#define __UMOD_ONE_OR_MORE(one, more, ...) __UMOD_PICK5(__VA_ARGS__, more, more, more, one, )
#define __UMOD_AS_WRITTEN(name, ...) name(__VA_ARGS__)
#define __UMOD_KERNEL_MACRO(name, ...) \
	__UMOD_ONE_OR_MORE(__UMOD_CAT(__umod_1_, name), __UMOD_AS_WRITTEN, __VA_ARGS__)(name, __VA_ARGS__)

/* Each call site keeps its own cache of the lookup. */
#define __umod_1_symbol_get(name, x)                                               \
	__extension__({                                                            \
		static struct umod_symbol_cache __umod_cache;                      \
		(__typeof__(&x))__umod_symbol_get_cached(#x, sizeof(#x) - 1,       \
							 &__umod_cache, THIS_MODULE); \
	})
#define __umod_1_symbol_request(name, x) ((__typeof__(&x))(__umod_symbol_request(#x, THIS_MODULE)))
#define __umod_1_symbol_put(name, x)                                               \
	__extension__({                                                            \
		static struct umod_symbol_cache __umod_cache;                      \
		__umod_symbol_put_cached(#x, sizeof(#x) - 1, &__umod_cache, THIS_MODULE); \
	})
#define __umod_1_symbol_put_addr(name, p) __umod_symbol_put_addr((p), THIS_MODULE)
#define __umod_1_try_module_get(name, m) __umod_try_module_get((m), THIS_MODULE)
#define __umod_1_module_put(name, m) __umod_module_put((m), THIS_MODULE)

#define symbol_get(...) __UMOD_KERNEL_MACRO(symbol_get, __VA_ARGS__)
#define symbol_request(...) __UMOD_KERNEL_MACRO(symbol_request, __VA_ARGS__)
#define symbol_put(...) __UMOD_KERNEL_MACRO(symbol_put, __VA_ARGS__)
#define symbol_put_addr(...) __UMOD_KERNEL_MACRO(symbol_put_addr, __VA_ARGS__)
#define try_module_get(...) __UMOD_KERNEL_MACRO(try_module_get, __VA_ARGS__)
#define module_put(...) __UMOD_KERNEL_MACRO(module_put, __VA_ARGS__)
#define symbol_put_user(x, user) __umod_symbol_put(#x, (user))

/* ---- state handed over by a reload (docs/reloading.md) ------------------ */

/* MODULE_STATE(id, version, save, restore): the module keeps a state that a
 * reload (Registry::reload, `umod run`'s reload) hands from the old version
 * to the new one, as the kernel's livepatch hands over a klp_state: the new
 * version takes over a state of the same id saved at its own version or a
 * lower one, never a higher one (a downgrade). `version` is a decimal literal; the pair is
 * recorded in .modinfo ("state=id:version"), so a reload is refused before
 * anything is unloaded when the new file declares no state of that id or a
 * lower version. At most one MODULE_STATE per module.
 *   save(buffer, size): runs before the old version's exit; writes the state
 *     into `buffer` when `size` is enough, and returns the state's size
 *     either way (it is called with size 0 first), or a negative errno.
 *   restore(data, size, from_version): runs before the new version's init
 *     with the bytes save wrote and the old version's `version`; returns 0
 *     or a negative errno (the reload is then rolled back). NULL: the module
 *     cannot take an old state (the reload is rolled back if one exists). */
typedef long (*umod_state_save_t)(void *buffer, unsigned long size);
typedef int (*umod_state_restore_t)(const void *data, unsigned long size, unsigned long from_version);
struct umod_state {
	const char *id;
	unsigned long version;
	umod_state_save_t save;
	umod_state_restore_t restore;
};
#define MODULE_STATE(_id, _version, _save, _restore)                                \
	static const struct umod_state __umod_state                                \
		__attribute__((used, section(".umod_state"), aligned(8))) = {      \
			#_id, _version, _save, _restore};                         \
	__MODULE_INFO(state, #_id ":" __UMOD_STRING(_version))
#define __UMOD_STRING2(x) #x
#define __UMOD_STRING(x) __UMOD_STRING2(x)

#ifdef __cplusplus
}

namespace umod {
/* Typed lookup: fails (nullptr, reported) unless the export recorded type T. */
template <class T>
T *symbol_get_typed(const char *symbol, struct module *user = THIS_MODULE) {
	return reinterpret_cast<T *>(__umod_symbol_get_typed(symbol, type_name<T>(), user));
}

#if __cplusplus >= 202002L
/* RAII: a typed reference held by the module as long as the SymbolRef lives
 * (see <umod/ref.h>); copies take more, nothing to put by hand. Release it
 * before the module's exit returns: a reference still held then is a leak. */
template <class T>
__attribute__((always_inline)) inline Expected<SymbolRef<T>> symbol_ref(const char *symbol,
                                                                        struct module *user = THIS_MODULE) {
	auto *registry = static_cast<Registry *>(user->umod_registry);
	if (registry == nullptr) return Error(ENOENT, std::string(symbol) + ": module not loaded by umod");
	return SymbolRef<T>::acquire(*registry, symbol, static_cast<User *>(user->umod_self));
}
#endif
}  // namespace umod
#endif

#endif /* UMOD_MODULE_H */
