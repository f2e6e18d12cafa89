# One warning set for every target of the project.
add_library(spk_warnings INTERFACE)
target_compile_options(spk_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2
  -Wno-missing-field-initializers)
if(SPK_WERROR)
  target_compile_options(spk_warnings INTERFACE -Werror)
endif()

add_library(spk_sanitizers INTERFACE)
if(SPK_FUZZ)
  # The fuzz build (docs/fuzzing.md): every library with libFuzzer's coverage
  # instrumentation (fuzzer-no-link) and ASan + UBSan; the harnesses in fuzz/
  # add -fsanitize=fuzzer, which brings libFuzzer's main.
  target_compile_options(spk_sanitizers INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
  target_link_options(spk_sanitizers INTERFACE -fsanitize=address,undefined)
elseif(SPK_SANITIZE)
  target_compile_options(spk_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(spk_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

# How test code (unit tests, integration tests, their support library) is
# compiled, after the build type's flags. The release preset sets "-O1;-g0":
# gtest/gmock-heavy test files then compile in about a third of the -O2 -g
# time, while the product code they test keeps -O2 -g. Empty: as the product.
set(SPK_TEST_CXX_FLAGS "" CACHE STRING "Extra compile options for test code (a ;-list)")
add_library(spk_test_codegen INTERFACE)
target_compile_options(spk_test_codegen INTERFACE ${SPK_TEST_CXX_FLAGS})
