# Tests of the trainable network and optimisers (train/tnet.c, optim.c,
# ops_backward.c). Included from tests/CMakeLists.txt.
if(TARGET gs_train_core)
  gs_add_c_test(test_train_grad SOURCES test_train_grad.c LIBS gs_train_core m)
  # One architecture schema: the core and the trainer accept and reject the
  # same nets with the same message.
  gs_add_c_test(test_net_desc SOURCES test_net_desc.c LIBS gs_train_core m)
  target_compile_definitions(test_net_desc PRIVATE GS_SOURCE_DIR_DEFAULT="${CMAKE_SOURCE_DIR}")

  # Loads a model + input + targets, writes loss, probabilities, gradients,
  # BN running statistics and the parameters after SGD/AdamW steps, for the
  # PyTorch comparison in test_train_grad_torch.py.
  add_executable(gs_tnet_run tools/tnet_run.c)
  target_link_libraries(gs_tnet_run PRIVATE gs_train_core gs_test_support m)
  gs_add_script_test(test_train_grad_torch ${GS_PYTHON}
    ${CMAKE_CURRENT_SOURCE_DIR}/test_train_grad_torch.py $<TARGET_FILE:gs_tnet_run>)
endif()
