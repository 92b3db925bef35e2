# Trainable network, backward kernels and optimisers (the numeric core of
# genrescope-train), as a static library the trainer, its tests and the
# benchmarks link. Included from train/CMakeLists.txt.
add_library(gs_train_core STATIC
  ${CMAKE_CURRENT_LIST_DIR}/tnet.c
  ${CMAKE_CURRENT_LIST_DIR}/optim.c
  ${CMAKE_CURRENT_LIST_DIR}/ops_backward.c)
target_include_directories(gs_train_core PUBLIC ${CMAKE_CURRENT_LIST_DIR})
# The core with its internals (genrescope/net_desc.h, genrescope/cnn_ops.h,
# genrescope/patch_norm.h):
# the trainable net is built from the core's architecture description and
# runs its layer kernels.
target_link_libraries(gs_train_core PUBLIC genrescope_internal PkgConfig::OPENBLAS PkgConfig::CJSON m)
