# spk_layer(NAME DEPS ...): the library spk_NAME from src/NAME/*.cc, with
# *_test.cc as its unit-test binary NAME_test (ctest label "unit").
function(spk_layer name)
  cmake_parse_arguments(L "" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  list(REMOVE_ITEM srcs ${tests})
  add_library(spk_${name} STATIC ${srcs})
  target_include_directories(spk_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(spk_${name} PUBLIC ${L_DEPS} PRIVATE spk_warnings spk_sanitizers)
  if(SPK_BUILD_TESTS AND tests)
    add_executable(${name}_test ${tests})
    target_link_libraries(${name}_test PRIVATE spk_${name} ${L_TEST_DEPS} GTest::gmock
                          GTest::gtest_main spk_warnings spk_sanitizers spk_test_codegen)
    target_compile_definitions(${name}_test PRIVATE
      SPK_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    set_property(GLOBAL APPEND PROPERTY SPK_UNIT_TESTS ${name}_test)
    gtest_discover_tests(${name}_test DISCOVERY_MODE PRE_TEST PROPERTIES LABELS unit
                         ENVIRONMENT "SPK_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  endif()
endfunction()
