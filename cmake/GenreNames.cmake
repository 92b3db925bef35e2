# The built-in display names of model labels (models/genre-names.conf), for
# the tagger (a generated C table) and the LV2 bundle (scale point and port
# names), so tags and the DAW show the same words. Usable from a project
# and from cmake -P scripts.

# Reads CONF into two parallel lists: labels (lower case) and names.
function(gs_read_genre_names conf labels_var names_var)
  # UTF-8: without it CMake splits lines at non-ASCII bytes.
  file(STRINGS "${conf}" lines ENCODING UTF-8)
  set(labels "")
  set(names "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "#.*" "" line "${line}")
    string(STRIP "${line}" line)
    if(line STREQUAL "")
      continue()
    endif()
    if(NOT line MATCHES "^([^=]+)=(.+)$")
      message(FATAL_ERROR "${conf}: expected 'label = Name', got '${line}'")
    endif()
    string(STRIP "${CMAKE_MATCH_1}" label)
    string(STRIP "${CMAKE_MATCH_2}" name)
    if(label MATCHES "[;@\"\\\\]" OR name MATCHES "[;@\"\\\\]")
      message(FATAL_ERROR "${conf}: '${line}' has a character a generated file cannot carry")
    endif()
    string(TOLOWER "${label}" label)
    list(APPEND labels "${label}")
    list(APPEND names "${name}")
  endforeach()
  set(${labels_var} "${labels}" PARENT_SCOPE)
  set(${names_var} "${names}" PARENT_SCOPE)
endfunction()

# Display name of LABEL into out_var: the listed name (case-insensitive
# match), else the label with its first letter in upper case (the tagger's
# rule, tagger/genre_names.c).
function(gs_genre_display_name conf label out_var)
  gs_read_genre_names("${conf}" labels names)
  string(TOLOWER "${label}" key)
  list(FIND labels "${key}" at)
  if(at GREATER -1)
    list(GET names ${at} name)
  else()
    string(SUBSTRING "${label}" 0 1 first)
    string(SUBSTRING "${label}" 1 -1 rest)
    string(TOUPPER "${first}" first)
    set(name "${first}${rest}")
  endif()
  set(${out_var} "${name}" PARENT_SCOPE)
endfunction()

# Writes a C header defining gs_builtin_genre_names[][2] = {{label, name}...}.
function(gs_write_genre_names_header conf header)
  gs_read_genre_names("${conf}" labels names)
  set(h "/* Generated from ${conf} by cmake/GenreNames.cmake. Do not edit. */\n")
  string(APPEND h "static const char *const gs_builtin_genre_names[][2] = {\n")
  list(LENGTH labels n)
  if(n EQUAL 0)
    message(FATAL_ERROR "${conf}: no names")
  endif()
  math(EXPR last "${n} - 1")
  foreach(i RANGE ${last})
    list(GET labels ${i} label)
    list(GET names ${i} name)
    string(APPEND h "    {\"${label}\", \"${name}\"},\n")
  endforeach()
  string(APPEND h "};\n")
  file(CONFIGURE OUTPUT "${header}" CONTENT "${h}" @ONLY)
endfunction()
