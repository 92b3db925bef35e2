# Trainable network, backward kernels and optimisers (the numeric core of
# genrescope-train), as a static library the trainer, its tests and the
# benchmarks link. Included from train/CMakeLists.txt.
#
# The backward passes live next to their forwards in the core's per-op
# sources (core/src/op_*.c), behind GS_OPS_BACKWARD: the core compiles each
# file without it (the forward half), the trainer compiles the same files
# with it (the backward half), so the installed library carries no
# training code and no symbol is defined twice.
add_library(gs_ops_backward OBJECT ${GS_OP_SOURCES})
target_compile_definitions(gs_ops_backward PRIVATE GS_OPS_BACKWARD)
target_link_libraries(gs_ops_backward PRIVATE genrescope_internal PkgConfig::OPENBLAS)
add_library(gs_train_core STATIC
  ${CMAKE_CURRENT_LIST_DIR}/tnet.c
  ${CMAKE_CURRENT_LIST_DIR}/optim.c
  ${CMAKE_CURRENT_LIST_DIR}/ops_backward.c
  $<TARGET_OBJECTS:gs_ops_backward>)
target_include_directories(gs_train_core PUBLIC ${CMAKE_CURRENT_LIST_DIR})
# The core with its internals (genrescope/net_desc.h, genrescope/cnn_ops.h,
# genrescope/patch_norm.h):
# the trainable net is built from the core's architecture description and
# runs its layer kernels.
target_link_libraries(gs_train_core PUBLIC genrescope_internal PkgConfig::OPENBLAS PkgConfig::CJSON m)
