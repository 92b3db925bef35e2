# Training step benchmark: C (bench_train_step) against PyTorch
# (train_step.py runs both and prints the ratio). Included from
# bench/CMakeLists.txt.
if(TARGET gs_train_core AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/bench_train_step.c)
  add_executable(bench_train_step bench_train_step.c)
  target_link_libraries(bench_train_step PRIVATE gs_train_core)
  target_compile_definitions(bench_train_step PRIVATE GS_SOURCE_DIR_DEFAULT="${CMAKE_SOURCE_DIR}")
endif()
