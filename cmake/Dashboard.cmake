# The dashboard (web/): its npm packages installed from the lockfile (`npm ci`) and its pages built by Vite to
# <build>/web, the folder the server answers at `/` (flowstone.web_dir's default: <bin_dir>/web). Part of
# `all` when Node.js and npm are installed; without them the server answers the API and a page saying so.
# `npm ci` fetches from the npm registry (into web/node_modules): an offline machine builds with
# -DFLOWSTONE_DASHBOARD=OFF.
option(FLOWSTONE_DASHBOARD "Build the web dashboard (npm ci needs the npm registry)" ON)
find_program(FS_NPM npm)
find_program(FS_NODE node)
set(FS_WEB_DIR "${CMAKE_CURRENT_SOURCE_DIR}/web")
if(NOT FLOWSTONE_DASHBOARD)
  message(STATUS "FLOWSTONE_DASHBOARD=OFF: the dashboard is not built")
elseif(FS_NPM AND FS_NODE)
  file(GLOB_RECURSE FS_WEB_SRCS CONFIGURE_DEPENDS "${FS_WEB_DIR}/src/*")
  add_custom_command(
    OUTPUT "${FS_WEB_DIR}/node_modules/.package-lock.json"
    COMMAND "${FS_NPM}" ci --no-audit --no-fund --loglevel=error
    DEPENDS "${FS_WEB_DIR}/package.json" "${FS_WEB_DIR}/package-lock.json"
    WORKING_DIRECTORY "${FS_WEB_DIR}"
    COMMENT "dashboard: npm ci")
  add_custom_command(
    OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/web/index.html"
    COMMAND ${CMAKE_COMMAND} -E env "FLOWSTONE_WEB_OUT=${CMAKE_CURRENT_BINARY_DIR}/web"
            "${FS_NODE}" node_modules/vite/bin/vite.js build --logLevel warn
    DEPENDS "${FS_WEB_DIR}/node_modules/.package-lock.json" "${FS_WEB_DIR}/index.html"
            "${FS_WEB_DIR}/vite.config.js" ${FS_WEB_SRCS}
    WORKING_DIRECTORY "${FS_WEB_DIR}"
    COMMENT "dashboard: vite build -> ${CMAKE_CURRENT_BINARY_DIR}/web")
  add_custom_target(dashboard ALL DEPENDS "${CMAKE_CURRENT_BINARY_DIR}/web/index.html")
else()
  message(WARNING "node or npm not found: the dashboard is not built (the server answers the API only)")
endif()

# The browser tests: headless Chromium (Debian's) driven by playwright-core against three real parties.
# CI sets FLOWSTONE_REQUIRE_BROWSER_TESTS, so a machine without them fails the configure instead of passing
# without them.
option(FLOWSTONE_REQUIRE_BROWSER_TESTS "Fail the configure when the browser tests cannot run" OFF)
function(fs_add_browser_tests)
  find_program(FS_CHROMIUM NAMES chromium chromium-browser)
  if(NOT TARGET dashboard OR NOT FS_CHROMIUM)
    if(FLOWSTONE_REQUIRE_BROWSER_TESTS)
      message(FATAL_ERROR "the browser tests need chromium, node and npm (.ci/install-deps installs them)")
    endif()
    message(WARNING "chromium, node or npm not found: the dashboard's browser tests are not run")
    return()
  endif()
  add_test(NAME dashboard_browser COMMAND "${FS_NODE}" tests/dashboard.test.mjs WORKING_DIRECTORY "${FS_WEB_DIR}")
  set_tests_properties(dashboard_browser PROPERTIES TIMEOUT 400 LABELS browser
    ENVIRONMENT "FLOWSTONE_BIN=${CMAKE_CURRENT_BINARY_DIR};FLOWSTONE_SHOTS=${CMAKE_CURRENT_BINARY_DIR}/screenshots;CHROMIUM=${FS_CHROMIUM}")
endfunction()
