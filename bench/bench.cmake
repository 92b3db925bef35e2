# `cmake --build <dir> --target bench-inference`: core CNN inference against
# PyTorch (same random-init weights, same batch), side by side.
if(TARGET bench_inference)
  add_custom_target(bench-inference
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/bench_inference.py
            --bench $<TARGET_FILE:bench_inference>
            --tmp ${CMAKE_CURRENT_BINARY_DIR}/bench-inference
    DEPENDS bench_inference
    USES_TERMINAL
    COMMENT "Benchmarking CNN inference (core vs torch)")
endif()
