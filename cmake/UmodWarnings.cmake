# umod_warnings(<target>): the project's warning set, applied to every target we own.
function(umod_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Wunused -Woverloaded-virtual
    -Wimplicit-fallthrough -Wformat=2
    -Wno-missing-field-initializers)  # designated initializers omit fields on purpose
  if(UMOD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
