// Reading tags through TagLib's C++ API (tag_read.h), and the pieces the
// tagger's writer shares (taglib_shared.hpp): one lock, one reading of a
// file's genre and confidence.
#include "taglib_shared.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <taglib/fileref.h>
#include <taglib/id3v1tag.h>
#include <taglib/id3v2tag.h>
#include <taglib/mp4file.h>
#include <taglib/mp4tag.h>
#include <taglib/mpegfile.h>
#include <taglib/textidentificationframe.h>
#include <taglib/tpropertymap.h>

namespace gs_tags
{

// One reader or writer at a time keeps TagLib's process-wide state safe;
// tag I/O is tiny next to decoding.
std::mutex taglib_mutex;

const char *const mp4_genre = "\251gen";
const std::string mp4_confidence = std::string("----:com.apple.iTunes:") + GS_TAG_CONFIDENCE_KEY;

void put(char *out, std::size_t size, const std::string &s)
{
    if (out && size)
        std::snprintf(out, size, "%s", s.c_str());
}

std::string join(const TagLib::StringList &l)
{
    std::string s;
    for (const auto &v : l) {
        if (!s.empty())
            s += GS_TAG_GENRE_SEPARATOR;
        s += v.to8Bit(true);
    }
    return s;
}

current_tags read_tags(TagLib::File *file)
{
    current_tags t;
    if (auto *mp3 = dynamic_cast<TagLib::MPEG::File *>(file)) {
        if (mp3->hasID3v2Tag()) {
            TagLib::ID3v2::Tag *v2 = mp3->ID3v2Tag();
            t.genres = v2->properties()["GENRE"];
            if (auto *f = TagLib::ID3v2::UserTextIdentificationFrame::find(v2, GS_TAG_CONFIDENCE_KEY))
                if (f->fieldList().size() > 1)
                    t.confidence = f->fieldList()[1].to8Bit(true);
        } else if (mp3->hasID3v1Tag() && !mp3->ID3v1Tag()->genre().isEmpty()) {
            t.genres.append(mp3->ID3v1Tag()->genre());
        }
        return t;
    }
    if (auto *mp4 = dynamic_cast<TagLib::MP4::File *>(file)) {
        TagLib::MP4::Tag *tag = mp4->tag();
        if (tag && tag->contains(mp4_genre))
            t.genres = tag->item(mp4_genre).toStringList();
        if (tag && tag->contains(mp4_confidence.c_str())) {
            TagLib::StringList v = tag->item(mp4_confidence.c_str()).toStringList();
            if (!v.isEmpty())
                t.confidence = v.front().to8Bit(true);
        }
        return t;
    }
    TagLib::PropertyMap pm = file->properties();
    t.genres = pm["GENRE"];
    if (pm.contains(GS_TAG_CONFIDENCE_KEY) && !pm[GS_TAG_CONFIDENCE_KEY].isEmpty())
        t.confidence = pm[GS_TAG_CONFIDENCE_KEY].front().to8Bit(true);
    return t;
}

} // namespace gs_tags

extern "C" void gs_tag_read_title(const char *path, char *out, size_t out_size)
{
    gs_tags::put(out, out_size, "");
    std::lock_guard<std::mutex> lock(gs_tags::taglib_mutex);
    TagLib::FileRef ref(path, false);
    if (ref.isNull() || !ref.tag() || ref.tag()->title().isEmpty())
        return;
    std::string title = ref.tag()->title().to8Bit(true);
    std::string artist = ref.tag()->artist().to8Bit(true);
    gs_tags::put(out, out_size, artist.empty() ? title : artist + " - " + title);
}

extern "C" int gs_tag_read(const char *path, char *genre, size_t genre_size, char *confidence, size_t confidence_size)
{
    std::lock_guard<std::mutex> lock(gs_tags::taglib_mutex);
    TagLib::FileRef ref(path, false);
    if (ref.isNull() || !ref.file()->isValid())
        return -1;
    gs_tags::current_tags t = gs_tags::read_tags(ref.file());
    gs_tags::put(genre, genre_size, gs_tags::join(t.genres));
    gs_tags::put(confidence, confidence_size, t.confidence);
    return 0;
}

extern "C" int gs_tag_read_genres(const char *path, char ***genres, int *count)
{
    *genres = nullptr;
    *count = 0;
    std::string joined;
    {
        std::lock_guard<std::mutex> lock(gs_tags::taglib_mutex);
        TagLib::FileRef ref(path, false);
        if (ref.isNull() || !ref.file()->isValid())
            return -1;
        joined = gs_tags::join(gs_tags::read_tags(ref.file()).genres);
    }
    // Split the joined form, not the value list: a format that holds one
    // string stores several genres joined, and must give the same list.
    std::vector<std::string> parts;
    const std::string sep = GS_TAG_GENRE_SEPARATOR;
    for (std::size_t at = 0;;) {
        std::size_t next = joined.find(sep, at);
        std::string part = joined.substr(at, next == std::string::npos ? std::string::npos : next - at);
        if (!part.empty())
            parts.push_back(part);
        if (next == std::string::npos)
            break;
        at = next + sep.size();
    }
    if (parts.empty())
        return 0;
    char **out = static_cast<char **>(std::calloc(parts.size(), sizeof *out));
    if (!out)
        return -2;
    for (std::size_t i = 0; i < parts.size(); i++) {
        if (!(out[i] = strdup(parts[i].c_str()))) {
            gs_tag_genres_free(out, static_cast<int>(i));
            return -2;
        }
    }
    *genres = out;
    *count = static_cast<int>(parts.size());
    return 0;
}

extern "C" void gs_tag_genres_free(char **genres, int count)
{
    if (!genres)
        return;
    for (int i = 0; i < count; i++)
        std::free(genres[i]);
    std::free(genres);
}
