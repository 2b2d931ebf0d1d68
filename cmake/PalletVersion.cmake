# The plugin's one version, for `docker pallet version`, its metadata and its package:
#   a checkout:  git describe (v1.2.0 -> 1.2.0; v1.2.0-3-gabc1234; untagged: PROJECT-dev+abc1234)
#   a tarball:   the VERSION file, which `git archive` fills in (export-subst in .gitattributes)
#   neither:     PROJECT-dev
# Sets PALLET_VERSION and PALLET_DEB_VERSION (Debian's form: ~ before a release, + after).
# Used when configuring, at every build (script mode: writes the header when the version changed)
# and by CPack when it makes the package.
function(pallet_version source_dir project_version)
  execute_process(
    COMMAND git describe --tags --always --dirty
    WORKING_DIRECTORY ${source_dir}
    OUTPUT_VARIABLE describe
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
    RESULT_VARIABLE failed)
  if(failed OR NOT describe)
    set(describe "")
    if(EXISTS ${source_dir}/VERSION)
      file(STRINGS ${source_dir}/VERSION describe LIMIT_COUNT 1)
      if(describe MATCHES "^\\$Format")
        set(describe "")  # not from git archive
      endif()
    endif()
  endif()
  if(describe MATCHES "^v[0-9]")
    string(REGEX REPLACE "^v" "" version "${describe}")
  elseif(describe)
    set(version "${project_version}-dev+${describe}")
  else()
    set(version "${project_version}-dev")
  endif()
  string(REPLACE "-dev" "~dev" deb "${version}")
  string(REPLACE "-" "+" deb "${deb}")
  set(PALLET_VERSION "${version}" PARENT_SCOPE)
  set(PALLET_DEB_VERSION "${deb}" PARENT_SCOPE)
endfunction()

# Script mode: cmake -DSOURCE_DIR=... -DPROJECT_VERSION=... -DOUTPUT=... -P PalletVersion.cmake
if(CMAKE_SCRIPT_MODE_FILE AND OUTPUT)
  pallet_version(${SOURCE_DIR} ${PROJECT_VERSION})
  set(text "#pragma once\n\nnamespace pallet {\n// The version this binary was built as (cmake/PalletVersion.cmake).\ninline constexpr const char* k_version = \"${PALLET_VERSION}\";\n}  // namespace pallet\n")
  if(EXISTS ${OUTPUT})
    file(READ ${OUTPUT} old)
  endif()
  if(NOT old STREQUAL text)
    file(WRITE ${OUTPUT} "${text}")
  endif()
endif()
