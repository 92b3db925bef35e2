# Trainable network, backward kernels and optimisers (the numeric core of
# genrescope-train), as a static library the trainer, its tests and the
# benchmarks link. Included from train/CMakeLists.txt.
add_library(gs_train_core STATIC
  ${CMAKE_CURRENT_LIST_DIR}/tnet.c
  ${CMAKE_CURRENT_LIST_DIR}/optim.c
  ${CMAKE_CURRENT_LIST_DIR}/ops_backward.c)
# The core's internal headers: the layer kernels (cnn_ops.h) and the
# architecture description (net_desc.h) the trainable net is built from.
target_include_directories(gs_train_core PUBLIC ${CMAKE_CURRENT_LIST_DIR} ${GS_CORE_INTERNAL_INCLUDE})
target_link_libraries(gs_train_core PUBLIC genrescope PkgConfig::OPENBLAS PkgConfig::CJSON m)
