/* A structural check of MP4/M4A files before TagLib saves them. TagLib 1.13
 * trusts the entry counts of chunk-offset tables ('stco', 'co64') when it
 * rewrites them after a tag grows: a 17 KB file claiming 0xFFFFFFF0 entries
 * made it write gigabytes. We refuse to save a file whose atoms do not add
 * up instead. */
#ifndef GS_TAGGER_MP4_CHECK_H
#define GS_TAGGER_MP4_CHECK_H

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when path's name says MP4 family (m4a, m4b, m4p, m4v, mp4, 3gp, 3g2, aac
 * is not MP4). */
int gs_mp4_is_mp4_name(const char *path);

/* Walks the atom tree of the open file fd (size bytes): every atom fits in
 * its parent, and every 'stco'/'co64' table's entry count fits in its atom.
 * Returns 0 when sane, -1 when not (why gets a short reason, why_size
 * bytes), -2 on a read error. Reads at most a few thousand atoms. */
int gs_mp4_check_atoms(int fd, long long size, char *why, unsigned long why_size);

#ifdef __cplusplus
}
#endif
#endif
