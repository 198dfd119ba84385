# umod_add_module(<name> SOURCES <files>...)
#
# Builds a umod module: an ELF shared object named <name>.so that includes
# <umod/module.h>. Every symbol the module does not export stays hidden, and
# the module's own references bind to its own definitions (-Bsymbolic), so
# template and inline copies are never bound across modules. Frame pointers
# stay on, so that stacks recorded at the `stacks` tracking level show the
# module's functions. The module does not link libumod: the host provides it.
function(umod_add_module name)
  cmake_parse_arguments(M "" "" "SOURCES" ${ARGN})
  add_library(${name} MODULE ${M_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_compile_options(${name} PRIVATE -fno-omit-frame-pointer)
  target_link_options(${name} PRIVATE -Wl,-Bsymbolic)
  if(TARGET umod::headers)
    target_link_libraries(${name} PRIVATE umod::headers)
  else()
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  endif()
endfunction()
