// What the tag reader shares with the tagger's tag writer
// (tagger/tag_writer.cpp), both C++ over TagLib: the one lock around
// TagLib's process-wide state, and reading a file's current genre and
// confidence, which the writer does before deciding to write. Not for C.
#ifndef GS_TAGS_TAGLIB_SHARED_HPP
#define GS_TAGS_TAGLIB_SHARED_HPP

#include <cstddef>
#include <mutex>
#include <string>

#include <taglib/tfile.h>
#include <taglib/tstringlist.h>

#include "tag_read.h"

namespace gs_tags
{

// TagLib keeps process-wide state (frame factory, debug listener): every
// TagLib call in the program, read or write, holds this.
extern std::mutex taglib_mutex;

// The MP4 genre atom and the confidence's freeform atom.
extern const char *const mp4_genre;
extern const std::string mp4_confidence;

// Copies s into out (NUL-terminated, truncated to size); no-op without a buffer.
void put(char *out, std::size_t size, const std::string &s);

// The values joined by GS_TAG_GENRE_SEPARATOR, as UTF-8.
std::string join(const TagLib::StringList &l);

struct current_tags {
    TagLib::StringList genres;
    std::string confidence;
};

// The genre values and the confidence field of an open, valid file, read
// where genrescope writes them in each format. Caller holds taglib_mutex.
current_tags read_tags(TagLib::File *file);

} // namespace gs_tags

#endif
