// TagLib C++ shim behind tag_writer.h. The C bindings of TagLib 1.13 have no
// property map and save MP3 with an ID3v1 tag the file may not have had, so
// the genre and the confidence field are written here instead.
//
// Saving is crash- and disk-full-safe: the file (a symlink's target) is
// copied next to itself under an exclusive temporary name, the copy is
// tagged and fsync'ed, then renamed over the original only if that is still
// a regular file (genrescope/outfile.h). A failure at any step removes the
// copy and leaves the original untouched.
#include "tag_writer.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>

#include <taglib/fileref.h>
#include <taglib/id3v1tag.h>
#include <taglib/id3v2tag.h>
#include <taglib/mp4file.h>
#include <taglib/mp4tag.h>
#include <taglib/mpegfile.h>
#include <taglib/textidentificationframe.h>
#include <taglib/infotag.h>
#include <taglib/tpropertymap.h>
#include <taglib/wavfile.h>

#include "genrescope/outfile.h"
#include "mp4_check.h"
#include "taglib_shared.hpp"

namespace
{

// The lock, the MP4 atom names and the reading of a file's current genre
// and confidence are the tag reader's (tags/taglib_shared.hpp): one
// definition for reading and writing.
using gs_tags::current_tags;
using gs_tags::join;
using gs_tags::mp4_confidence;
using gs_tags::mp4_genre;
using gs_tags::put;
using gs_tags::read_tags;
using gs_tags::taglib_mutex;

std::string join_with(const TagLib::StringList &l, const char *separator)
{
    std::string s;
    for (const auto &v : l) {
        if (!s.empty())
            s += separator;
        s += v.to8Bit(true);
    }
    return s;
}

// An MP3 keeps the ID3v2 version it has (2.3 stays 2.3 for the players that
// read only that); a new tag is 2.4.
bool keeps_id3v23(TagLib::MPEG::File *mp3)
{
    return mp3->hasID3v2Tag() && mp3->ID3v2Tag()->header()->majorVersion() == 3;
}

// The values a multi-valued genre takes in this file, as its format's
// readers expect: a list where the format has one (ID3v2.4 TCON, Vorbis
// comments of FLAC/Ogg/Opus, APE, the ID3 chunk of WAV/AIFF); one "; "-joined
// string where readers show a single value (ID3v2.3, whose list TagLib would
// store as numeric "(8)(0)" references; MP4's ©gen, of which players show the
// first). With a separator, one string joined by it in every format.
TagLib::StringList genre_values(TagLib::File *file, const TagLib::StringList &genres, const char *separator)
{
    if (genres.size() < 2 && !separator)
        return genres;
    bool one_string = separator != nullptr;
    if (auto *mp3 = dynamic_cast<TagLib::MPEG::File *>(file))
        one_string = one_string || keeps_id3v23(mp3);
    if (dynamic_cast<TagLib::MP4::File *>(file))
        one_string = true;
    if (!one_string)
        return genres;
    return TagLib::StringList(TagLib::String(join_with(genres, separator ? separator : "; "), TagLib::String::UTF8));
}

// Sets the genres (as genre_values made them) and confidence on an open
// file, then saves it. Only the frames/fields we own change; everything else
// the tag holds is kept.
bool write_tags(TagLib::File *file, const TagLib::StringList &genres, const std::string &conf)
{
    if (auto *mp3 = dynamic_cast<TagLib::MPEG::File *>(file)) {
        bool had_v1 = mp3->hasID3v1Tag();
        TagLib::ID3v2::Version version = keeps_id3v23(mp3) ? TagLib::ID3v2::v3 : TagLib::ID3v2::v4;
        TagLib::ID3v2::Tag *v2 = mp3->ID3v2Tag(true);
        v2->removeFrames("TCON");
        auto *tcon = new TagLib::ID3v2::TextIdentificationFrame("TCON", TagLib::String::UTF8);
        tcon->setText(genres);
        v2->addFrame(tcon);
        if (auto *old = TagLib::ID3v2::UserTextIdentificationFrame::find(v2, GS_TAG_CONFIDENCE_KEY))
            v2->removeFrame(old);
        if (!conf.empty())
            v2->addFrame(new TagLib::ID3v2::UserTextIdentificationFrame(
                GS_TAG_CONFIDENCE_KEY, TagLib::StringList(TagLib::String(conf, TagLib::String::UTF8)),
                TagLib::String::UTF8));
        int tags = TagLib::MPEG::File::ID3v2;
        if (had_v1) {
            // Keep an existing ID3v1 consistent; never add one.
            mp3->ID3v1Tag()->setGenre(genres.front());
            tags |= TagLib::MPEG::File::ID3v1;
        }
        return mp3->save(tags, TagLib::File::StripNone, version, TagLib::File::DoNotDuplicate);
    }
    if (auto *mp4 = dynamic_cast<TagLib::MP4::File *>(file)) {
        TagLib::MP4::Tag *tag = mp4->tag();
        if (!tag)
            return false;
        tag->setItem(mp4_genre, TagLib::MP4::Item(genres));
        if (!conf.empty())
            tag->setItem(mp4_confidence.c_str(),
                         TagLib::MP4::Item(TagLib::StringList(TagLib::String(conf, TagLib::String::UTF8))));
        else
            tag->removeItem(mp4_confidence.c_str());
        return mp4->save();
    }
    TagLib::PropertyMap pm = file->properties();
    pm.replace("GENRE", genres);
    if (!conf.empty())
        pm.replace(GS_TAG_CONFIDENCE_KEY, TagLib::StringList(TagLib::String(conf, TagLib::String::UTF8)));
    else
        pm.erase(GS_TAG_CONFIDENCE_KEY);
    TagLib::PropertyMap rejected = file->setProperties(pm);
    if (rejected.contains("GENRE"))
        return false;
    // WAV's INFO chunk holds one string (TagLib would join the list with
    // spaces): the same genres as its ID3 chunk, "; "-joined.
    if (auto *wav = dynamic_cast<TagLib::RIFF::WAV::File *>(file))
        wav->InfoTag()->setGenre(TagLib::String(join_with(genres, "; "), TagLib::String::UTF8));
    return file->save();
}

// Copies from into the empty file open as out (which the caller created,
// closes and, on failure, removes). Returns 0, or -1 with why set.
int copy_file(const char *from, int out, const struct stat &st, std::string &why)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        why = std::strerror(errno);
        return -1;
    }
    int rc = 0;
    ssize_t n = 0;
    // A reflink (btrfs, XFS, bcachefs) shares the data: only the blocks
    // TagLib rewrites get copied, and fsync has almost nothing to write.
    // Else the kernel copies (no round trip through user space); else read
    // and write.
    bool copied = ioctl(out, FICLONE, in) == 0;
    if (!copied) {
        // Some file systems return 0 before the end (or at once when they
        // cannot do it): only a copy of exactly the file's size counts.
        off_t total = 0;
        while ((n = copy_file_range(in, NULL, out, NULL, (size_t)1 << 30, 0)) > 0 || (n < 0 && errno == EINTR))
            total += n > 0 ? n : 0;
        copied = n == 0 && total == st.st_size;
        if (!copied) { // not supported here, short, or failed: start over the portable way
            n = 0;
            if (lseek(in, 0, SEEK_SET) != 0 || ftruncate(out, 0) != 0 || lseek(out, 0, SEEK_SET) != 0) {
                why = std::strerror(errno);
                rc = -1;
            }
        }
    }
    char buf[1 << 16];
    while (!copied && rc == 0 && (n = read(in, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                why = std::strerror(errno);
                rc = -1;
                break;
            }
            off += w;
        }
        if (rc)
            break;
    }
    if (n < 0) {
        why = std::strerror(errno);
        rc = -1;
    }
    // Whatever copied it, the copy must be the whole file (a file that
    // changed since it was examined is left for the next scan).
    struct stat got;
    if (rc == 0 && (fstat(out, &got) != 0 || got.st_size != st.st_size)) {
        why = "the copy is not the size of the file (did it change?)";
        rc = -1;
    }
    // The replacement keeps the original's permissions and, when we may,
    // its owner.
    if (rc == 0 && fchmod(out, st.st_mode & 07777) != 0) {
        why = std::strerror(errno);
        rc = -1;
    }
    if (rc == 0 && geteuid() == 0 && fchown(out, st.st_uid, st.st_gid) != 0) {
        why = std::strerror(errno);
        rc = -1;
    }
    close(in);
    return rc;
}

double monotonic_seconds()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Saves the tags into the working copy tmp (open as fd) in a child process,
// so that no file can make a save run forever or fill the disk, the scan
// stays stoppable, and TagLib runs without our lock (the child is a process
// of its own). Returns 0 when the child saved, -1 with why set otherwise.
int save_in_child(const char *tmp, int fd, off_t original_size, const TagLib::StringList &genres,
                  const std::string &conf, volatile sig_atomic_t *cancel, std::string &why)
{
    // A test knob: reproduce a save that never ends.
    const char *stall = getenv("GS_TAG_TEST_STALL_SAVE");
    pid_t pid = fork();
    if (pid < 0) {
        why = std::string("cannot start the save: ") + std::strerror(errno);
        return -1;
    }
    if (pid == 0) {
        // The child: only TagLib and _exit. Not the parent's mutex: another
        // thread may have held it at fork time, and nothing else runs here.
        if (stall && !std::strcmp(stall, "1"))
            for (;;)
                pause();
        bool ok;
        {
            TagLib::FileRef ref(tmp, false);
            ok = !ref.isNull() && ref.file()->isValid() && !ref.file()->readOnly() &&
                write_tags(ref.file(), genres, conf);
        }
        _exit(ok ? 0 : 1);
    }
    const double deadline = monotonic_seconds() + GS_TAG_SAVE_SECONDS;
    // Tests of the growth bound set a smaller one, so they end in seconds
    // and far from the time bound even on a loaded machine.
    const char *test_growth = getenv("GS_TAG_TEST_MAX_GROWTH");
    const long long max_growth = test_growth ? std::atoll(test_growth) : GS_TAG_SAVE_MAX_GROWTH;
    long nap_ns = 100000; // 0.1 ms, doubling to 10 ms: most saves take a few ms
    for (;;) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
            why = "TagLib could not save the tag (disk full?)";
            return -1;
        }
        if (r < 0 && errno != EINTR) {
            why = std::string("lost the save: ") + std::strerror(errno);
            return -1;
        }
        const char *stop = nullptr;
        struct stat now;
        if (cancel && *cancel)
            stop = "interrupted";
        else if (fstat(fd, &now) == 0 && now.st_size > original_size + max_growth)
            stop = "saving the tag kept growing the file (a malformed file?)";
        else if (monotonic_seconds() > deadline)
            stop = "saving the tag took too long";
        if (stop) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            why = stop;
            return -1;
        }
        struct timespec ts = {0, nap_ns};
        nanosleep(&ts, nullptr);
        if (nap_ns < 10000000)
            nap_ns *= 2;
    }
}

} // namespace

extern "C" void gs_tag_format_confidence(float confidence, char *out, size_t out_size)
{
    if (out && out_size)
        std::snprintf(out, out_size, "%.3f", (double)confidence);
}

extern "C" int gs_tag_remove_stale_copy(const char *dir, const char *name)
{
    if (std::strncmp(name, GS_TAG_TEMP_PREFIX, std::strlen(GS_TAG_TEMP_PREFIX)) != 0)
        return 0;
    std::string path = std::string(dir) + "/" + name;
    // Non-blocking and no symlinks: a FIFO or a planted link under our
    // prefix is not ours to open or remove.
    int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    int removed = 0;
    // A live writer holds the lock from before the name exists (see
    // gs_temp_create_near); a dead one's lock died with it.
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0)
        removed = unlink(path.c_str()) == 0;
    close(fd);
    return removed;
}

static const char *const outcome_names[GS_TAG_OUTCOME_COUNT] = {
    "written", "would-write", "already-tagged", "kept-existing",  "read-only", "unsupported",
    "failed",  "hard-linked", "disabled",       "low-confidence", "not-music", "none"};

extern "C" const char *gs_tag_outcome_name(gs_tag_outcome outcome)
{
    return outcome >= 0 && outcome < GS_TAG_OUTCOME_COUNT ? outcome_names[outcome] : "unknown";
}

extern "C" gs_tag_outcome gs_tag_outcome_parse(const char *name)
{
    for (int i = 0; name && i < GS_TAG_OUTCOME_COUNT; i++)
        if (!std::strcmp(name, outcome_names[i]))
            return (gs_tag_outcome)i;
    return GS_TAG_OUTCOME_COUNT;
}

extern "C" int gs_tag_join_as_written(const char *const *genres, int num_genres, const char *separator, char *out,
                                      size_t out_size)
{
    std::string s;
    for (int i = 0; i < num_genres; i++) {
        if (i)
            s += separator ? separator : "; ";
        s += genres[i];
    }
    put(out, out_size, s);
    return s.size() < out_size ? 0 : -1;
}

extern "C" int gs_tag_join(const char *const *genres, int num_genres, char *out, size_t out_size)
{
    return gs_tag_join_as_written(genres, num_genres, NULL, out, out_size);
}

namespace
{

// Not an outcome: the checks so far passed, so the write goes on.
const gs_tag_outcome GO_ON = GS_TAG_OUTCOME_COUNT;

// An MP4 file's atoms checked before TagLib saves it (mp4_check.h); GO_ON
// for any other file.
gs_tag_outcome check_mp4(const char *path, const struct stat &st, char *message, size_t message_size)
{
    const char *skip_check = getenv("GS_TAG_TEST_SKIP_MP4_CHECK"); // tests of the save's own bounds
    if (!gs_mp4_is_mp4_name(path) || (skip_check && !std::strcmp(skip_check, "1")))
        return GO_ON;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    char why[160] = "";
    int rc = fd < 0 ? -2 : gs_mp4_check_atoms(fd, (long long)st.st_size, why, sizeof why);
    if (fd >= 0)
        close(fd);
    if (rc == -1) {
        put(message, message_size, std::string("malformed MP4: ") + why + "; left untouched");
        return GS_TAG_UNSUPPORTED;
    }
    if (rc != 0) {
        put(message, message_size, std::string("cannot read the file: ") + std::strerror(errno));
        return GS_TAG_FAILED;
    }
    return GO_ON;
}

// Whether genres (and conf) may replace what the file holds (cur): GO_ON,
// or why not.
gs_tag_outcome decide(const char *path, const struct stat &st, const gs_tag_request *req, const current_tags &cur,
                      const TagLib::StringList &genres, const std::string &conf, char *message, size_t message_size)
{
    // The genre is ours only while it is exactly what we last wrote: the
    // confidence field survives a user's edit in most tag editors.
    bool ours = req->ours && !cur.genres.isEmpty() && join(cur.genres) == req->ours;
    if (cur.genres == genres && (conf.empty() || cur.confidence == conf || !ours))
        return GS_TAG_SAME;
    bool users = !cur.genres.isEmpty() && !ours;
    if (users && !req->overwrite) {
        put(message, message_size, "has genre '" + join(cur.genres) + "' (use --overwrite to replace)");
        return GS_TAG_KEPT;
    }
    // Root may write anything; a file without any write bit is still the
    // user saying "do not modify".
    if ((st.st_mode & 0222) == 0 || access(path, W_OK) != 0) {
        put(message, message_size, "file is read-only; indexed but not tagged");
        return GS_TAG_READ_ONLY;
    }
    // Copy and rename would leave the other names on the old content; an
    // in-place save is not crash-safe. Leaving the file alone loses nothing.
    if (st.st_nlink > 1 && !req->break_hardlinks) {
        put(message, message_size, "hard-linked: not tagged (use --break-hardlinks)");
        return GS_TAG_HARDLINKED;
    }
    return req->dry_run ? GS_TAG_WOULD_WRITE : GO_ON;
}

// A write gs_tag_write has decided on: the file as stat saw it, what to
// save, and the copy's place and name.
struct tag_plan {
    struct stat st;
    TagLib::StringList genres;
    std::string conf;
    char target[PATH_MAX]; // the file the path resolves to (symlinks written through)
    std::string suffix;    // the copy's name ends so: TagLib picks the format by it
};

// Everything up to the write, under the TagLib lock: reads what the file
// holds (into existing), decides, and fills plan. GO_ON, or the outcome.
gs_tag_outcome plan_write(const char *path, const gs_tag_request *req, tag_plan &plan, char *existing,
                          size_t existing_size, char *message, size_t message_size)
{
    for (int i = 0; i < req->num_genres; i++)
        plan.genres.append(TagLib::String(req->genres[i], TagLib::String::UTF8));
    if (req->confidence >= 0) {
        char buf[32];
        gs_tag_format_confidence(req->confidence, buf, sizeof buf);
        plan.conf = buf;
    }

    // TagLib calls only: copying and syncing (most of a tag write's time)
    // run unlocked so workers tagging different files overlap their I/O.
    std::lock_guard<std::mutex> lock(taglib_mutex);
    if (stat(path, &plan.st) != 0) {
        put(message, message_size, std::strerror(errno));
        return GS_TAG_FAILED;
    }
    current_tags cur;
    {
        // Audio properties too: TagLib happily "parses" a text file named
        // .mp3; no audio stream means it is not ours to tag.
        TagLib::FileRef ref(path, true, TagLib::AudioProperties::Fast);
        if (ref.isNull() || !ref.file()->isValid() || !ref.audioProperties() ||
            ref.audioProperties()->sampleRate() <= 0) {
            put(message, message_size, "TagLib cannot parse this file; left untouched");
            return GS_TAG_UNSUPPORTED;
        }
        cur = read_tags(ref.file());
        plan.genres = genre_values(ref.file(), plan.genres, req->separator);
    }
    gs_tag_outcome outcome = check_mp4(path, plan.st, message, message_size);
    if (outcome != GO_ON)
        return outcome;
    put(existing, existing_size, join(cur.genres));
    outcome = decide(path, plan.st, req, cur, plan.genres, plan.conf, message, message_size);
    if (outcome != GO_ON)
        return outcome;

    // The working copy lives next to the file it replaces (so the rename is
    // atomic), under an exclusive, unpredictable name that keeps the
    // extension (TagLib picks the format by it). We hold an flock on it
    // while it exists: the walker removes a leftover copy only when nobody
    // holds that lock (a crashed writer), whatever its PID was.
    gs_error err;
    gs_error_clear(&err);
    if (gs_output_resolve(path, plan.target, sizeof plan.target, nullptr, &err) != GS_OK) {
        put(message, message_size, std::string("not tagged: ") + err.message);
        return GS_TAG_FAILED;
    }
    const char *slash = std::strrchr(plan.target, '/');
    std::string dir(plan.target, slash ? (size_t)(slash - plan.target) : 0);
    if (access(dir.empty() ? "/" : dir.c_str(), W_OK) != 0) {
        put(message, message_size, "directory is read-only; indexed but not tagged");
        return GS_TAG_READ_ONLY;
    }
    plan.suffix = std::string("-") + (slash ? slash + 1 : plan.target);
    return GO_ON;
}

// Saves the plan into a locked copy next to the target and renames it over
// the target; on any failure the copy is removed and the file untouched.
gs_tag_outcome write_copy(const tag_plan &plan, volatile sig_atomic_t *cancel, char *message, size_t message_size)
{
    char tmp[PATH_MAX + 64];
    gs_error err;
    gs_error_clear(&err);
    int fd = gs_temp_create_near(plan.target, GS_TAG_TEMP_PREFIX, plan.suffix.c_str(), 0600, 1, tmp, sizeof tmp, &err);
    if (fd < 0) {
        put(message, message_size, std::string("not tagged: ") + err.message);
        return GS_TAG_FAILED;
    }
    std::string why;
    bool written = false;
    if (copy_file(plan.target, fd, plan.st, why) != 0)
        why = "not tagged: " + (why.empty() ? std::string(std::strerror(errno)) : why);
    else if (save_in_child(tmp, fd, plan.st.st_size, plan.genres, plan.conf, cancel, why) != 0)
        why = "not tagged: " + why + "; file left untouched";
    else if (fsync(fd) != 0) // fsync works on the file, whichever descriptor wrote it (TagLib's)
        why = std::string("not tagged: ") + std::strerror(errno);
    else if (gs_rename_onto_regular(tmp, plan.target, &err) != GS_OK)
        why = std::string("not tagged: ") + err.message;
    else
        written = true;
    close(fd);
    if (written)
        return GS_TAG_WRITTEN;
    unlink(tmp);
    put(message, message_size, why);
    return GS_TAG_FAILED;
}

} // namespace

extern "C" gs_tag_outcome gs_tag_write(const char *path, const gs_tag_request *req, char *existing,
                                       size_t existing_size, char *message, size_t message_size)
{
    put(existing, existing_size, "");
    put(message, message_size, "");
    if (!req || req->num_genres < 1) {
        put(message, message_size, "no genre to write");
        return GS_TAG_FAILED;
    }
    tag_plan plan;
    gs_tag_outcome outcome = plan_write(path, req, plan, existing, existing_size, message, message_size);
    return outcome == GO_ON ? write_copy(plan, req->cancel, message, message_size) : outcome;
}
