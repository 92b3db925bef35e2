# Tagger benchmarks. bench_tagger_similar needs only the tagger;
# bench_tagger_scan needs the working core (decode + CNN).
if(TARGET gs_tagger)
  add_executable(bench_tagger_similar bench_tagger_similar.c)
  target_link_libraries(bench_tagger_similar PRIVATE gs_tagger)
  add_executable(bench_tagger_scan bench_tagger_scan.c ${CMAKE_SOURCE_DIR}/tagger/analyser_core.c)
  target_link_libraries(bench_tagger_scan PRIVATE gs_tagger genrescope PkgConfig::SNDFILE)
endif()
