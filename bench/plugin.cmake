# LV2 plugin benchmark (bench_plugin.c), built on the lilv host of the tests.
if(TARGET genrescope_lv2)
  pkg_check_modules(LILV IMPORTED_TARGET lilv-0)
  if(LILV_FOUND)
    add_executable(bench_plugin bench_plugin.c
      ${CMAKE_SOURCE_DIR}/tests/plugin/host.c ${CMAKE_SOURCE_DIR}/tests/plugin/synth.c)
    target_include_directories(bench_plugin PRIVATE ${CMAKE_SOURCE_DIR}/tests/plugin ${CMAKE_SOURCE_DIR}/plugin)
    target_compile_definitions(bench_plugin PRIVATE
      GS_PLUGIN_BUNDLE_DIR="${GS_LV2_BUNDLE}" GS_PLUGIN_URI_BASE="${GS_PLUGIN_URI}")
    target_link_libraries(bench_plugin PRIVATE genrescope PkgConfig::LILV m)
    add_dependencies(bench_plugin genrescope_lv2)
  endif()
endif()
