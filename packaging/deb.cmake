# `cpack -G DEB` (in the build tree) makes genrescope_VERSION_ARCH.deb: the
# CLI, the trainer, the library with headers and pkg-config file, the LV2
# bundle under /usr/lib/lv2, the man pages, completions and docs. Depends is
# computed by dpkg-shlibdeps from the binaries, so it names exactly the
# libraries they link. Configure with -DCMAKE_INSTALL_PREFIX=/usr for a
# package whose pkg-config file points at /usr (the package installs under
# /usr either way).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME genrescope)
set(CPACK_PACKAGE_VENDOR "Genrescope")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "music genre recognition: CLI tagger, trainer, library and LV2 plugin")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Genrescope tells what genre music is, with a small CNN over log-mel spectrograms.\n"
    "This package has the genrescope command (classify files, tag a library and\n"
    "index it in SQLite, find similar tracks, build playlists), genrescope-train,\n"
    "the libgenrescope library with its headers and pkg-config file, and the\n"
    "genrescope LV2 plugin, which shows the genre of audio playing in a DAW.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION sound)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Genrescope maintainers <genrescope@localhost>")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# man-db shows the pages and bash-completion loads the completion; neither
# is needed to run the programs.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "man-db, bash-completion, zsh, lv2-host, sqlite3")
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/build.*/;/\\\\.git/")
include(CPack)
