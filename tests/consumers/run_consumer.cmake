# Configures, builds and runs one consumer project (cmake -P). Inputs: NAME SOURCE WORK GENERATOR
# CXX, and one of INSTALL_FROM (install that build to a fresh prefix first), PACKAGE_DIR
# (anybit_DIR), ANYBIT_SOURCE (for add_subdirectory).
set(root "${WORK}/${NAME}")
file(REMOVE_RECURSE "${root}")
set(configure_args -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc COMMAND_ECHO STDOUT)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer ${NAME}: command failed (${rc})")
  endif()
endfunction()

if(DEFINED INSTALL_FROM)
  run(${CMAKE_COMMAND} --install "${INSTALL_FROM}" --prefix "${root}/prefix")
  list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${root}/prefix")
elseif(DEFINED PACKAGE_DIR)
  list(APPEND configure_args "-Danybit_DIR=${PACKAGE_DIR}")
elseif(DEFINED ANYBIT_SOURCE)
  list(APPEND configure_args "-DANYBIT_SOURCE=${ANYBIT_SOURCE}")
endif()

run(${CMAKE_COMMAND} -S "${SOURCE}" -B "${root}/build" ${configure_args})
run(${CMAKE_COMMAND} --build "${root}/build")
run("${root}/build/consumer_app")
message(STATUS "consumer ${NAME}: built and ran")
