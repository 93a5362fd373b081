# boards/sim/wamr.cmake: WAMR's interpreter as the desktop binaries here build it (the moat simulator,
# boards/sim/CMakeLists.txt, and the llhttp baseline, boards/baseline/CMakeLists.txt), so both run on
# the same interpreter build. WAMR_ROOT_DIR: the wasm-micro-runtime/ of the crate wamr-sys 0.1.1,
# fetched into .cache/engines/ by boards/scripts/fetch-engines.mjs; WAMR_BUILD_FAST_INTERP: 1 (fast) or 0
# (classic). Defines the static library vmlib.
if (NOT DEFINED WAMR_ROOT_DIR)
  message(FATAL_ERROR "set WAMR_ROOT_DIR to wasm-micro-runtime/")
endif ()
if (NOT DEFINED WAMR_BUILD_FAST_INTERP)
  set(WAMR_BUILD_FAST_INTERP 1)
endif ()

set(WAMR_BUILD_PLATFORM "linux")
set(WAMR_BUILD_INTERP 1)
set(WAMR_BUILD_AOT 0)
set(WAMR_BUILD_JIT 0)
# wamr-sys 0.1.1's loader links wasm_native_lookup_libc_builtin_global unconditionally, so the
# builtin libc table must be built; moat imports nothing, so none of it is ever bound.
set(WAMR_BUILD_LIBC_BUILTIN 1)
set(WAMR_BUILD_LIBC_WASI 0)
set(WAMR_BUILD_MULTI_MODULE 0)
set(WAMR_BUILD_LIB_PTHREAD 0)
set(WAMR_BUILD_MINI_LOADER 0)
set(WAMR_BUILD_SIMD 0)
set(WAMR_BUILD_BULK_MEMORY 0)
set(WAMR_BUILD_SHARED_MEMORY 0)
set(WAMR_DISABLE_HW_BOUND_CHECK 1)
if (NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif ()

include(${WAMR_ROOT_DIR}/build-scripts/runtime_lib.cmake)
add_library(vmlib STATIC ${WAMR_RUNTIME_LIB_SOURCE})
# WAMR 2021 sources trip newer compilers' warnings; they are not ours to fix.
target_compile_options(vmlib PRIVATE -w)
