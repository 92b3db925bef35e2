# Fuzz targets (tests/fuzz/fuzz_*.c). In every build they are linked with a
# replay driver and ctest replays generated seeds and the kept reproducers
# through them (under ASan+UBSan in the Sanitize build); scripts/fuzz.sh
# builds them with clang's libFuzzer for long runs.
option(GS_FUZZ_LIBFUZZER "Link the fuzz targets with libFuzzer (clang; scripts/fuzz.sh)" OFF)
function(gs_add_fuzz_target name)
  if(GS_FUZZ_LIBFUZZER)
    add_executable(fuzz_${name} fuzz/fuzz_${name}.c)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(fuzz_${name} fuzz/fuzz_${name}.c fuzz/fuzz_replay.c)
  endif()
  target_include_directories(fuzz_${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
  target_link_libraries(fuzz_${name} PRIVATE ${ARGN} gs_test_support)
endfunction()
gs_add_fuzz_target(model genrescope)
gs_add_fuzz_target(audio genrescope)
if(TARGET gs_tagger)
  gs_add_fuzz_target(tag_writer gs_tagger)
  gs_add_fuzz_target(genre_names gs_tagger)
  gs_add_fuzz_target(index gs_tagger)
  add_test(NAME test_fuzz_regressions
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_fuzz_regressions PROPERTIES LABELS unit TIMEOUT 300
    ENVIRONMENT "GS_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/lsan.supp")
endif()
