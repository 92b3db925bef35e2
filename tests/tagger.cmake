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
  gs_add_c_test(test_tag_writer SOURCES tagger/test_tag_writer.c LIBS gs_tagger PkgConfig::SNDFILE)
  gs_add_c_test(test_tag_copy SOURCES tagger/test_tag_copy.c LIBS gs_tagger PkgConfig::SNDFILE)

  gs_add_script_test(test_tagger_cli bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_tagger_cli.sh
    $<TARGET_FILE:genrescope_fake> $<TARGET_FILE:genrescope_sqlite>)
  # classify is a stub in genrescope_fake: the real program answers for it.
  gs_add_script_test(test_cli_conventions bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_cli_conventions.sh
    $<TARGET_FILE:genrescope_fake> $<TARGET_FILE:genrescope_cli>)
  gs_add_script_test(test_tagger_bad_input bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_tagger_bad_input.sh
    $<TARGET_FILE:genrescope_fake>)
  gs_add_script_test(test_tagger_real bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_tagger_real.sh
    $<TARGET_FILE_DIR:gs_tagger>/genrescope)
  gs_add_script_test(test_tagger_fixes bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_tagger_fixes.sh
    $<TARGET_FILE:genrescope_fake>)
  gs_add_script_test(test_write_paths bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_write_paths.sh
    $<TARGET_FILE:genrescope_fake>)
  gs_add_script_test(test_not_music bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_not_music.sh
    $<TARGET_FILE:genrescope_fake>)
  gs_add_script_test(test_tagger_models bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_tagger_models.sh
    $<TARGET_FILE:genrescope_fake>)
  add_executable(tag_tool tagger/tag_tool.c)
  target_link_libraries(tag_tool PRIVATE gs_tagger)
  gs_add_script_test(test_multi_genre /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_multi_genre.py
    $<TARGET_FILE:tag_tool>)
  gs_add_script_test(test_playlist_m3u bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_playlist_m3u.sh
    $<TARGET_FILE:genrescope_fake>)
  gs_add_script_test(test_config bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_config.sh
    $<TARGET_FILE:genrescope_fake>)
  gs_add_script_test(test_identity bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_identity.sh
    $<TARGET_FILE:genrescope_fake>)
  gs_add_script_test(test_similar_parts bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_similar_parts.sh
    $<TARGET_FILE:genrescope_fake>)
  gs_add_script_test(test_scan_counters bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_scan_counters.sh
    $<TARGET_FILE:genrescope_fake>)
  gs_add_script_test(test_exit_statuses bash ${CMAKE_CURRENT_SOURCE_DIR}/tagger/test_exit_statuses.sh
    $<TARGET_FILE:genrescope_fake>)
  set_tests_properties(test_tagger_cli test_cli_conventions test_tagger_bad_input test_tagger_real test_tagger_fixes
    test_tagger_models test_write_paths test_not_music test_identity test_multi_genre test_playlist_m3u test_config
    test_similar_parts test_scan_counters test_exit_statuses PROPERTIES TIMEOUT 120)
endif()
