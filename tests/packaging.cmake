# Installing genrescope: the man pages and completions (test_install), the
# .deb (test_deb). Both install only into directories they make.
if(TARGET genrescope_cli AND TARGET genrescope_docgen)
  gs_add_script_test(test_install bash ${CMAKE_CURRENT_SOURCE_DIR}/packaging/test_install.sh
    ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  gs_add_script_test(test_deb bash ${CMAKE_CURRENT_SOURCE_DIR}/packaging/test_deb.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(test_install test_deb PROPERTIES TIMEOUT 300 LABELS package)
endif()
