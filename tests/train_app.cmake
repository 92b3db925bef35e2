# Tests of genrescope-train's application layer (train/ except the numeric
# core): data listing and bad input, the spectrogram cache, folds,
# augmentation (clip variants too), baseline, the CLI end to end on synthetic audio, and the
# shipped model's level invariance. Included from tests/CMakeLists.txt.
if(TARGET gs_train_app)
  # The test tags its fixtures through TagLib's C binding; the trainer
  # itself reads tags with genrescope_tags.
  pkg_check_modules(TAGLIB_C REQUIRED IMPORTED_TARGET taglib_c)
  gs_add_c_test(test_train_data SOURCES test_train_data.c LIBS gs_train_app PkgConfig::TAGLIB_C m)
  gs_add_c_test(test_train_clip SOURCES test_train_clip.c LIBS gs_train_app m)
  # --labels-from-tags on files tagged by the tagger's writer (multi-valued
  # genres), so it needs the tagger too.
  if(TARGET gs_tagger)
    gs_add_c_test(test_train_tags SOURCES test_train_tags.c LIBS gs_train_app gs_tagger m)
  endif()
  gs_add_c_test(test_train_level SOURCES test_train_level.c LIBS genrescope m)
  if(TARGET test_train_level)
    target_compile_definitions(test_train_level PRIVATE
      GS_SHIPPED_MODEL="${CMAKE_SOURCE_DIR}/models/genrescope-gtzan.safetensors")
  endif()
  add_executable(gs_calib_fit tools/calib_fit.c)
  target_link_libraries(gs_calib_fit PRIVATE gs_train_app m)
  gs_add_script_test(test_calibration ${GS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/test_calibration.py
    $<TARGET_FILE:gs_calib_fit>)
  add_executable(test_train_synth test_train_synth.c)
  target_link_libraries(test_train_synth PRIVATE m)
  gs_add_script_test(test_train_cli bash ${CMAKE_CURRENT_SOURCE_DIR}/test_train_cli.sh
    $<TARGET_FILE:genrescope_train> $<TARGET_FILE:test_train_synth>)
  gs_add_script_test(test_train_arch bash ${CMAKE_CURRENT_SOURCE_DIR}/test_train_arch.sh
    $<TARGET_FILE:genrescope_train> $<TARGET_FILE:test_train_synth>)
endif()
