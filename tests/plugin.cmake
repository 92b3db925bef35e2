# Tests of the LV2 plugin (plugin/: its code and bundle.json). Included from
# tests/CMakeLists.txt. The host tests load the bundle from the build tree.
if(NOT TARGET gs_plugin_logic)
  return()
endif()

gs_add_c_test(test_plugin_logic SOURCES plugin/test_plugin_logic.c
              LIBS gs_plugin_logic gs_common Threads::Threads m)

# The bundle is only built when there is a model to put in it.
if(NOT TARGET genrescope_lv2)
  return()
endif()

pkg_check_modules(LILV IMPORTED_TARGET lilv-0)
if(NOT LILV_FOUND)
  message(WARNING "lilv-0 not found: LV2 host tests disabled (apt-get install liblilv-dev)")
  return()
endif()

set(gs_plugin_defs GS_PLUGIN_BUNDLE_DIR="${GS_LV2_BUNDLE}" GS_PLUGIN_URI_BASE="${GS_PLUGIN_URI}")

# The small lilv host and the test signals, built once for every program
# below. host.c includes the inline display's definitions from plugin/.
add_library(gs_plugin_test_host STATIC plugin/host.c plugin/synth.c)
target_include_directories(gs_plugin_test_host PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/plugin
                           ${CMAKE_SOURCE_DIR}/plugin)
target_link_libraries(gs_plugin_test_host PUBLIC PkgConfig::LILV m)

gs_add_c_test(test_plugin_host
  SOURCES plugin/test_plugin_host.c ${CMAKE_SOURCE_DIR}/tagger/genre_names.c ${CMAKE_SOURCE_DIR}/tagger/kv_file.c
  LIBS genrescope_internal gs_plugin_test_host)
if(TARGET test_plugin_host)
  # The tagger's display names: the scale points must show what tags say.
  # (genrescope_internal above: kv_file.c trims with the core's internal
  # text helper, which a shared libgenrescope does not export.)
  target_include_directories(test_plugin_host PRIVATE ${CMAKE_SOURCE_DIR}/tagger
                             ${CMAKE_BINARY_DIR}/tagger/generated)
endif()
# RT safety: rt_trap.c defines malloc, pthread_mutex_lock, write... in the
# executable; exporting them makes the dlopen()ed plugin bind to them.
gs_add_c_test(test_plugin_rt
  SOURCES plugin/test_plugin_rt.c plugin/rt_trap.c
  LIBS gs_plugin_test_host Threads::Threads ${CMAKE_DL_LIBS})
# The mixer-strip picture (inline display), with the same RT trap for render().
gs_add_c_test(test_plugin_display
  SOURCES plugin/test_plugin_display.c plugin/rt_trap.c ${CMAKE_SOURCE_DIR}/plugin/display.c
  LIBS genrescope gs_plugin_test_host Threads::Threads ${CMAKE_DL_LIBS})
if(TARGET test_plugin_display)
  target_include_directories(test_plugin_display PRIVATE ${CMAKE_BINARY_DIR}/plugin/generated)
  set_target_properties(test_plugin_display PROPERTIES ENABLE_EXPORTS ON)
endif()
# What the plugin shows for a file (tests/test_nonmusic.sh).
add_executable(gs_plugin_verdict plugin/plugin_verdict.c)
target_link_libraries(gs_plugin_verdict PRIVATE genrescope gs_plugin_test_host)
foreach(t test_plugin_host test_plugin_rt test_plugin_display gs_plugin_verdict)
  if(TARGET ${t})
    target_compile_definitions(${t} PRIVATE ${gs_plugin_defs})
    add_dependencies(${t} genrescope_lv2)
  endif()
endforeach()
if(TARGET test_plugin_rt)
  set_target_properties(test_plugin_rt PROPERTIES ENABLE_EXPORTS ON)
endif()

# Scripts: TTL validation and lv2info, real hosts. A host built with
# sanitizers cannot dlopen an ASan-instrumented plugin, so the real-host
# tests skip in the Sanitize build.
set(gs_plugin_env "GS_LV2_DIR=${CMAKE_BINARY_DIR}/lv2" "GS_PLUGIN_URI=${GS_PLUGIN_URI}"
    "GS_BUILD_TYPE=${CMAKE_BUILD_TYPE}")
gs_add_script_test(test_plugin_validate bash ${CMAKE_CURRENT_SOURCE_DIR}/plugin/validate.sh)
gs_add_script_test(test_plugin_jalv bash ${CMAKE_CURRENT_SOURCE_DIR}/plugin/jalv_smoke.sh)
gs_add_script_test(test_plugin_ardour bash ${CMAKE_CURRENT_SOURCE_DIR}/plugin/ardour_smoke.sh)
foreach(t test_plugin_validate test_plugin_jalv test_plugin_ardour)
  set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT ${gs_plugin_env})
  set_property(TEST ${t} APPEND PROPERTY LABELS plugin)
endforeach()
set_tests_properties(test_plugin_jalv test_plugin_ardour PROPERTIES RUN_SERIAL ON TIMEOUT 120)

# Carla (not packaged for Debian 12), built from ../shared/carla's tarball
# once and cached in the build tree's _carla/ (about 2.5 min with two jobs;
# a rerun reuses it). The build is a fixture of its own so it runs beside
# other tests; the test proper plays in real time and runs alone. Both skip
# without the tarball.
set(GS_CARLA_DIR "${CMAKE_SOURCE_DIR}/../shared/carla" CACHE PATH "Carla source tarball folder for test_plugin_carla")
gs_add_script_test(test_plugin_carla_build bash ${CMAKE_CURRENT_SOURCE_DIR}/plugin/carla_build.sh
                   ${GS_CARLA_DIR} ${CMAKE_BINARY_DIR}/_carla)
gs_add_script_test(test_plugin_carla ${GS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/plugin/test_plugin_carla.py)
set_property(TEST test_plugin_carla APPEND PROPERTY ENVIRONMENT ${gs_plugin_env} "GS_CARLA_DIR=${GS_CARLA_DIR}")
set_property(TEST test_plugin_carla_build test_plugin_carla APPEND PROPERTY LABELS plugin)
set_tests_properties(test_plugin_carla_build PROPERTIES FIXTURES_SETUP carla TIMEOUT 900)
set_tests_properties(test_plugin_carla PROPERTIES FIXTURES_REQUIRED carla RUN_SERIAL ON TIMEOUT 300)
