# The flags of a umod module: the one source for umod_add_module() and for the
# umod-module pkg-config file (Cflags for C++, variable cflags_c for C, Libs).
# Every symbol the module does not export stays hidden (inline functions and
# template instantiations too), and the module's own references bind to its
# own definitions (-Bsymbolic), so no copy is ever bound across modules. Frame
# pointers stay on, so that stacks recorded at the `stacks` tracking level show
# the module's functions.
set(UMOD_MODULE_C_FLAGS -fvisibility=hidden -fno-omit-frame-pointer)
set(UMOD_MODULE_CXX_FLAGS ${UMOD_MODULE_C_FLAGS} -fvisibility-inlines-hidden)
set(UMOD_MODULE_LINK_FLAGS -Wl,-Bsymbolic)
# How a host links (umod::umod and the umod pkg-config file): its own symbols
# exported, for the exports it adds with Registry::add_core_export.
set(UMOD_HOST_LINK_FLAGS -rdynamic)

# umod_add_module(<name> [SOURCES] <files>...
#                 [LIBRARIES <targets or libraries>...]
#                 [INCLUDE_DIRECTORIES <dirs>...]
#                 [COMPILE_DEFINITIONS <defs>...]
#                 [COMPILE_OPTIONS <options>...])
#
# Builds a umod module: an ELF shared object named <name>.so that includes
# <umod/module.h>, with the flags above. Sources may follow SOURCES or the
# name directly; the other lists go to the PRIVATE side of the target, as
# target_link_libraries() and friends would take them (a module is a normal
# target afterwards too). C++ is compiled as C++17 at least (<umod/module.h>
# needs it; clang 14 defaults to C++14). The module does not link libumod: the
# host provides it.
function(umod_add_module name)
  cmake_parse_arguments(M "" "" "SOURCES;LIBRARIES;INCLUDE_DIRECTORIES;COMPILE_DEFINITIONS;COMPILE_OPTIONS" ${ARGN})
  add_library(${name} MODULE ${M_SOURCES} ${M_UNPARSED_ARGUMENTS})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    SUFFIX ".so")
  target_compile_options(${name} PRIVATE
    "$<$<COMPILE_LANGUAGE:C>:${UMOD_MODULE_C_FLAGS}>"
    "$<$<COMPILE_LANGUAGE:CXX>:${UMOD_MODULE_CXX_FLAGS}>"
    ${M_COMPILE_OPTIONS})
  target_link_options(${name} PRIVATE ${UMOD_MODULE_LINK_FLAGS})
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if(CXX IN_LIST languages)
    target_compile_features(${name} PRIVATE cxx_std_17)
  endif()
  if(TARGET umod::headers)
    target_link_libraries(${name} PRIVATE umod::headers)
  else()
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  endif()
  if(M_LIBRARIES)
    target_link_libraries(${name} PRIVATE ${M_LIBRARIES})
  endif()
  if(M_INCLUDE_DIRECTORIES)
    target_include_directories(${name} PRIVATE ${M_INCLUDE_DIRECTORIES})
  endif()
  if(M_COMPILE_DEFINITIONS)
    target_compile_definitions(${name} PRIVATE ${M_COMPILE_DEFINITIONS})
  endif()
endfunction()
