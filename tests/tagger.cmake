# Tagger tests. Most run against genrescope_fake: the real tagger (main.c
# and everything in gs_tagger) with a synthetic pitch-based analyser instead
# of the CNN, so scans are fast and deterministic. test_tagger_real runs
# the real binary with a real model when one exists.
if(TARGET gs_tagger)
  add_executable(genrescope_fake ${CMAKE_SOURCE_DIR}/tagger/main.c
    tagger/analyser_fake.c tagger/stub_classify.c)
  target_link_libraries(genrescope_fake PRIVATE gs_tagger PkgConfig::SNDFILE m)

  gs_add_c_test(test_tagger_units SOURCES tagger/test_tagger_units.c LIBS gs_tagger)
  gs_add_c_test(test_cli_help SOURCES tagger/test_cli_help.c LIBS gs_tagger)
  gs_add_c_test(test_emb_cache SOURCES tagger/test_emb_cache.c LIBS gs_tagger)
  gs_add_c_test(test_tag_writer SOURCES tagger/test_tag_writer.c LIBS gs_tagger gs_test_audio)
  gs_add_c_test(test_tag_copy SOURCES tagger/test_tag_copy.c LIBS gs_tagger PkgConfig::SNDFILE)

  gs_add_script_test(test_tagger_cli bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_tagger_cli.sh
    $<TARGET_FILE:genrescope_fake> $<TARGET_FILE:genrescope_sqlite>)
  # classify is a stub in genrescope_fake: the real program answers for it.
  gs_add_script_test(test_cli_conventions bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_cli_conventions.sh
    $<TARGET_FILE:genrescope_fake> $<TARGET_FILE:genrescope_cli>)
  gs_add_script_test(test_tagger_real bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_tagger_real.sh
    $<TARGET_FILE_DIR:gs_tagger>/genrescope)
  add_executable(tag_tool tagger/tag_tool.c)
  target_link_libraries(tag_tool PRIVATE gs_tagger)
  gs_add_script_test(test_multi_genre /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_multi_genre.py
    $<TARGET_FILE:tag_tool>)
  # The shell tests that need nothing but the synthetic-analyser program.
  set(fake_only_tests test_tagger_bad_input test_tagger_fixes test_write_paths test_not_music
    test_tagger_models test_playlist_m3u test_config test_identity test_similar_parts test_scan_counters
    test_exit_statuses)
  foreach(name IN LISTS fake_only_tests)
    gs_add_script_test(${name} bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/${name}.sh $<TARGET_FILE:genrescope_fake>)
  endforeach()
  set_tests_properties(test_tagger_cli test_cli_conventions test_tagger_real test_multi_genre ${fake_only_tests}
    PROPERTIES TIMEOUT 120)
endif()
