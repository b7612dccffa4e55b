# Runs anybit-infer on bad model files and checks that every run ends in an error report, not a
# crash or a success: exit status 1 and "anybit-infer: " + EXPECT (default: anything) on stderr.
# cmake -DINFER=<anybit-infer> (-DFILE=<one file> | -DDIR=<every *.aim in it>) [-DEXPECT=<text>]
#       [-DMIN_COUNT=<n>] -P expect_infer_errors.cmake
if(DEFINED FILE)
  set(files "${FILE}")
else()
  file(GLOB files "${DIR}/*.aim")
endif()
list(LENGTH files count)
if(DEFINED MIN_COUNT AND count LESS MIN_COUNT)
  message(FATAL_ERROR "found ${count} model files, expected at least ${MIN_COUNT}")
endif()
set(failures 0)
foreach(model IN LISTS files)
  # --data points nowhere: the model must be rejected before any data is read.
  execute_process(COMMAND "${INFER}" --model "${model}" --data "${CMAKE_CURRENT_LIST_DIR}/no-data"
                  RESULT_VARIABLE status OUTPUT_QUIET ERROR_VARIABLE errors)
  if(NOT status STREQUAL "1" OR NOT errors MATCHES "^anybit-infer: .*${EXPECT}")
    math(EXPR failures "${failures} + 1")
    if(failures LESS 5)
      message(STATUS "${model}: exit status '${status}', stderr: ${errors}")
    endif()
  endif()
endforeach()
if(failures GREATER 0)
  message(FATAL_ERROR "${failures} of ${count} bad model files did not end in an anybit-infer error")
endif()
message(STATUS "${count} bad model files: each one an error report with exit status 1")
